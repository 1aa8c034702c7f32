"""Stage 2, results: what a trial returns, the tidy tables made of it, the folder on disk.

``records`` (the worker's result, the contract between a trial and the collector),
``accounting`` (every job accounted for), ``collect`` (records to tables), ``ideal`` and
``openloop`` (derived columns), ``store`` and ``upgrade`` (run folders, old ones included),
``stats``, ``gate`` and ``baselines`` (comparing runs), ``hdr`` (mergeable percentiles).

Imports: ``define`` and the shared base. Never ``run``, ``present`` or the command line.
"""
