"""Interface placeholder until the fault table lands (replaced by the fault-kind table)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FaultKind:
    name: str
    rate_field: str
    does: str
    client_error_kind: str | None


FAULT_KINDS: tuple[FaultKind, ...] = (
    FaultKind("http_error", "error_rate", "answers an HTTP error (418 by default)", "http_<code>"),
    FaultKind("timeout", "timeout_rate", "holds the request without answering", "timeout"),
    FaultKind("reset", "reset_rate", "drops the connection with a TCP RST", "connection_reset"),
    FaultKind("truncate", "truncate_rate", "sends part of the body, then closes", "truncated"),
    FaultKind("slow", "slow_rate", "sends the body at a trickle", None),
)
RATE_FIELDS = tuple(k.rate_field for k in FAULT_KINDS)
