"""Exceptions of the strategies package, kept in one place so callers can catch them by name."""

from __future__ import annotations

from collections.abc import Sequence


class StrategyError(Exception):
    """Base class for errors raised by the strategies package (never for a failed download)."""


class UnknownStrategy(StrategyError, LookupError):
    """A strategy name that is neither built in nor registered under ``flagbench.strategies``."""

    def __init__(self, name: str, allowed: Sequence[str]) -> None:
        self.name = name
        self.allowed = tuple(allowed)
        if self.allowed:
            super().__init__(f"unknown strategy {name!r}; allowed: {', '.join(self.allowed)}")
        else:  # the registry is the installed metadata: a bare source checkout has none
            super().__init__(
                f"unknown strategy {name!r}: no strategy is registered under "
                "flagbench.strategies; install flagbench (pip install -e .)"
            )

    def __str__(self) -> str:  # LookupError would otherwise show the repr of the message
        return str(self.args[0])


class DeadlineExceeded(TimeoutError):
    """A body kept trickling in past the request's total time budget.

    requests only has per-read timeouts, so a slow body could otherwise run for ever.
    """


class UnsupportedSetting(StrategyError, ValueError):
    """Settings a strategy cannot honour here: a client library or event loop it does not use,
    or an optional library that is not installed. Raised before any request is sent."""
