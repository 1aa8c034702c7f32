"""Stage 4, presenting: charts, their readings, the report, and comparisons between runs.

``charts`` (each chart one module that registers itself, see ``charts.registry``),
``report`` (report.html and report.md: every reading computed from its chart's data),
``compare`` (runs compared configuration by configuration, the CI gate's words).

Imports: ``results`` (a stored run's tables), ``define`` and the shared base. Never ``run``
or the command line.
"""
