"""Stage 1, defining a suite: the workload and its typed values, suite files, the plan of trials.

What a benchmark *is*, before anything runs: ``workload`` (every axis, declared once),
``values`` (durations, latencies, CPU work and codes, parsed once), ``spec`` (suites and their
trials), ``plan`` (what a strategy can tell apart), ``pythons`` and ``dependencies`` (the
interpreter axis), ``codes`` (the book's flag lists), ``suites/`` (the built-in suites).

Imports: the standard library, ``flags_server`` and ``strategies`` (their declarations), and
bench's shared base modules. Never a later stage.
"""
