"""Every exception the flag server's package raises, under one base class.

Kept in one module (as httpx does) so the CLI, the admin API and the harness can all catch the
same classes, and a caller can catch ``FlagsServerError`` to turn any of them into one line.
"""

from __future__ import annotations


class FlagsServerError(Exception):
    """Base class: the message is one line, shown to the user as is."""


class ConfigError(FlagsServerError, ValueError):
    """A configuration value is out of range or malformed.

    The message always names the field, the bad value and what is allowed,
    because it is shown to the user as is (CLI: one line and exit status 2;
    admin API: HTTP 400 with the message as body).
    """


class ServerStartError(FlagsServerError, RuntimeError):
    """The server process exited or stayed silent before it was ready."""


class AdminError(FlagsServerError):
    """An admin call got no usable answer: refused, not found, not JSON, or no answer at all.

    Never swallowed: a caller that labels results with the server's settings must know when
    they were not applied. The message names the call, its URL and what came back; ``status``
    is the HTTP status when there was one.
    """

    def __init__(self, message: str, status: int | None = None, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.timed_out = timed_out  # no answer within the timeout: frozen, or very busy
