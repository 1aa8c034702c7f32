"""Stage 3, running a suite: trials in isolated worker processes against the flag server.

``runner`` (the parent: server, schedule, watchdog, resume, writing through the store),
``worker`` (the child: one trial, one strategy, its records), ``process`` and ``signals``
(subprocesses reaped, Ctrl-C), ``checks`` (before a run starts), ``progress`` and
``estimate`` (what the user sees while waiting), ``probes`` and ``background`` (what the
worker measures beside the downloads), ``interpreters`` and ``venvs`` (the python axis),
``metadata`` (the machine and packages, in meta.json).

Imports: ``define``, ``results`` and the shared base. Never ``present`` or the command line.
"""
