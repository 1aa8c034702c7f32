"""The fault kinds the server can inject, declared once.

The server owns this table because it injects the faults. Everything else is derived from
it: the ServerConfig rate fields and their sum check, the rates decide() draws from (in the
table's order, which the seeded decisions depend on), the `/_stats` fault counters, the
`flags-server` rate options, and the harness's workload fields and table columns.
Adding a kind means an entry here, its behaviour in app.py (and faults.py), and its
classification on the client side (strategies/classify.py).
"""

from __future__ import annotations

from dataclasses import dataclass

#: Stands for the status code in an error kind such as ``http_<code>``.
CODE_PLACEHOLDER = "<code>"


@dataclass(frozen=True)
class FaultKind:
    """One injectable fault: its name, the setting that turns it on, and what each side sees."""

    name: str  # the decision's fault and its /_stats "faults" counter key
    rate_field: str  # ServerConfig field, workload field and (dashed) CLI option
    does: str  # what the server does, one line
    client_error_kind: str | None  # what a client records; None when the answer is still ok

    @property
    def option(self) -> str:
        """The command-line option that sets the rate, e.g. ``--error-rate``."""
        return "--" + self.rate_field.replace("_", "-")

    def error_kind(self, status: int | None = None) -> str | None:
        """The error kind a client records for this fault, given the status it received."""
        kind = self.client_error_kind
        if kind is None or CODE_PLACEHOLDER not in kind:
            return kind
        if status is None:
            raise ValueError(f"{self.name}: the error kind {kind!r} needs the status code")
        return kind.replace(CODE_PLACEHOLDER, str(status))


# The order is the order decide() draws in: changing it changes every seeded decision.
FAULT_KINDS: tuple[FaultKind, ...] = (
    FaultKind(
        "http_error",
        "error_rate",
        "answers with an HTTP error, its code drawn evenly from --error-codes",
        "http_<code>",
    ),
    FaultKind(
        "timeout",
        "timeout_rate",
        "sends no answer for --timeout-hold seconds, then resets the connection",
        "timeout",
    ),
    FaultKind(
        "reset",
        "reset_rate",
        "resets the connection (TCP RST) instead of answering",
        "connection_reset",
    ),
    FaultKind(
        "truncate",
        "truncate_rate",
        "announces the full Content-Length, sends 10 to 90% of the body, then closes",
        "truncated",
    ),
    FaultKind("slow", "slow_rate", "sends the whole body, paced at --bandwidth bytes/s", None),
)

RATE_FIELDS: tuple[str, ...] = tuple(kind.rate_field for kind in FAULT_KINDS)
FAULT_NAMES: tuple[str, ...] = tuple(kind.name for kind in FAULT_KINDS)
BY_NAME: dict[str, FaultKind] = {kind.name: kind for kind in FAULT_KINDS}
