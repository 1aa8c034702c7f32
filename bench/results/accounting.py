"""Whether a finished trial's counts add up: the rule that keeps a failure from passing as data.

A trial is ok only when every job ended in exactly one final outcome, no job was lost to the
harness (a dead pool process, a bug in the strategy, a cancellation), every request reached
the server, and the server counted exactly the requests the client says it sent. Anything else
is a failed trial with the reason, never an ok one: its wall time would measure work that was
not done (a strategy that returns no records is infinitely fast). The runner applies it as each
trial ends and the collector again to every trial it reads, so older raw files obey it too.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench._words import plural
from bench.results.records import TrialResult

#: Bookkeeping records (attempt 0, nothing was sent) and what each says about the trial.
LOST = {
    "worker_lost": "lost with a dead pool process",
    "internal_error": "ended by a bug in the strategy",
    "cancelled": "never finished",
}


def failure_of(trial: TrialResult) -> str:
    """'' when the trial's counts add up; otherwise why not, in one line."""
    result = trial.result
    if result is None:
        return trial.failure or "no result"
    fields = {name: i for i, name in enumerate(result.record_fields)}
    final, attempt, outcome, kind = (
        fields[k] for k in ("final", "attempt", "outcome", "error_kind")
    )
    finals = Counter(row[outcome] for row in result.records if row[final])
    n_final = sum(finals.values())
    if n_final != trial.n_jobs or n_final != finals["ok"] + finals["not_found"] + finals["error"]:
        return f"the strategy returned {n_final} final outcomes for {plural(trial.n_jobs, 'job')}"
    kinds = Counter(row[kind] for row in result.records if row[final] and row[attempt] == 0)
    for name, what in LOST.items():
        if kinds[name]:
            return f"{plural(kinds[name], 'job')} {what} ({name})"
    sent = sum(1 for row in result.records if row[attempt] > 0)
    refused = sum(1 for row in result.records if row[kind] == "connection_refused")
    if refused:
        return (
            f"{plural(refused, 'request')} refused: the flag server was not listening "
            "(connection_refused)"
        )
    return server_disagreement(trial.server, sent)


def server_disagreement(server: dict[str, Any] | None, sent: int) -> str:
    """'' when the server counted the ``sent`` requests; otherwise what it counted instead.

    Without the server's counts (it refused ``/_stats``, which the run warned about before it
    began) there is nothing to disagree with: ``counts_match`` is False and ``server_error``
    says why, but the trial stands on the client's own accounting.
    """
    if server is None:
        return ""
    turned_away = server.get("connections_rejected", 0) + server.get("header_timeouts", 0)
    if turned_away:
        return (
            f"the server closed {plural(turned_away, 'connection')} at once or "
            "mid-request (over its connection cap, or a request head overdue)"
        )
    counted = server.get("requests")
    if counted != sent:
        return f"the server counted {counted} requests, the client sent {sent}"
    return ""
