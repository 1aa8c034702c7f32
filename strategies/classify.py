"""One function decides what an HTTP attempt's outcome was, for every client library alike.

The libraries (requests, urllib3, httpx, aiohttp) wrap the operating system's errors in their
own exception trees, several layers deep (requests: ``ConnectionError(ProtocolError('Connection
aborted.', ConnectionResetError(...)))``; httpx: ``ReadError`` caused by httpcore's, caused by
the OS error; aiohttp: ``ClientConnectorError`` carrying an ``os_error``).
Walking the whole chain and asking the same questions in the same order is what makes the
``error_kind`` column comparable across strategies. Library types are only looked up when
that library is already imported: an exception cannot come from a library nobody loaded,
and a process-pool worker should not pay for importing aiohttp.

Each fault kind the server injects declares the error kind a client records for it
(``flags_server.fault_kinds``); tests/strategies/test_fault_kinds.py holds this module to it.
"""

from __future__ import annotations

import asyncio
import errno
import http.client
import json
import sys
from collections.abc import Callable, Iterator

from .base import Outcome

NOT_FOUND = "not_found"
TIMEOUT = "timeout"
CONNECTION_RESET = "connection_reset"
CONNECTION_REFUSED = "connection_refused"
CONNECTION_ERROR = "connection_error"
TRUNCATED = "truncated"
INVALID_BODY = "invalid_body"
NO_RESPONSE = "no_response"
CLIENT_ERROR = "client_error"
SAVE_ERROR = "save_error"
CANCELLED = "cancelled"
INTERNAL_ERROR = "internal_error"
WORKER_LOST = "worker_lost"
DROPPED = "dropped"  # open loop: the arrival found C requests in flight and was not sent
# consume = taskgroup: another job failed and the asyncio.TaskGroup cancelled this one
GROUP_CANCELLED = "group_cancelled"

#: Every error kind besides ``http_<code>``. ``cancelled`` (Ctrl-C), ``internal_error`` (a bug
#: in a strategy) and ``worker_lost`` (a pool process died) mark bookkeeping records: attempt 0,
#: no request was sent for them; they exist so that every job still has one final record.
#: So does ``dropped`` (an open-loop arrival at the cap, with ``overflow = drop``), and
#: ``group_cancelled`` (a job an ``asyncio.TaskGroup`` cancelled when another one failed; the
#: attempts it had sent keep their own records, non-final).
ERROR_KINDS = (
    NOT_FOUND,
    TIMEOUT,
    CONNECTION_RESET,
    CONNECTION_REFUSED,
    CONNECTION_ERROR,
    TRUNCATED,
    INVALID_BODY,
    NO_RESPONSE,
    CLIENT_ERROR,
    SAVE_ERROR,
    CANCELLED,
    INTERNAL_ERROR,
    WORKER_LOST,
    DROPPED,
    GROUP_CANCELLED,
)

_RESET_ERRNOS = {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED}
_MAX_CHAIN = 32


def classify(
    status: int | None,
    exc: BaseException | None = None,
    *,
    nbytes: int = 0,
    content_length: int | None = None,
    body_ok: bool = True,
) -> tuple[Outcome, str | None]:
    """Map what an attempt produced to ``(outcome, error_kind)``.

    ``status`` is the HTTP status if the response head arrived, ``exc`` what was raised
    while asking or reading, ``nbytes``/``content_length`` the body received versus the one
    announced, ``body_ok`` the caller's verdict on the content (a GIF, valid metadata).
    A connection that breaks after the head arrived is a truncated body, whatever the
    library called it: the client saw a response start and not finish.
    """
    if exc is not None:
        kind = exception_kind(exc)
        if status is not None and kind in (CONNECTION_RESET, CONNECTION_ERROR):
            kind = TRUNCATED
        return "error", kind
    if status is None:
        return "error", NO_RESPONSE
    if status == 404:
        return "not_found", NOT_FOUND
    if status != 200:
        return "error", f"http_{status}"
    if content_length is not None and nbytes != content_length:
        return "error", TRUNCATED if nbytes < content_length else INVALID_BODY
    if not body_ok:
        return "error", INVALID_BODY
    return "ok", None


def exception_kind(exc: BaseException) -> str:
    """The error kind of an exception raised by requests, urllib3, httpx, aiohttp or the OS."""
    chain = list(_chain(exc))
    for kind, test in _RULES:
        if any(test(e) for e in chain):
            return kind
    return INTERNAL_ERROR


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps: causes, contexts, exception args, reasons."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo and len(seen) < _MAX_CHAIN:
        e = todo.pop(0)
        if not isinstance(e, BaseException) or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo.append(e.__cause__)
        if not e.__suppress_context__:
            todo.append(e.__context__)
        todo.extend(a for a in e.args if isinstance(a, BaseException))
        todo.append(getattr(e, "reason", None))  # urllib3 MaxRetryError
        todo.append(getattr(e, "os_error", None))  # aiohttp ClientConnectorError


def _types(module: str, *names: str) -> tuple[type, ...]:
    """Exception classes of an already imported library (empty if it is not imported)."""
    mod = sys.modules.get(module)
    if mod is None:
        return ()
    return tuple(t for t in (getattr(mod, n, None) for n in names) if isinstance(t, type))


def _is(e: BaseException, *groups: tuple[type, ...]) -> bool:
    return any(g and isinstance(e, g) for g in groups)


def _is_timeout(e: BaseException) -> bool:
    # urllib3 derives NewConnectionError from ConnectTimeoutError for old callers' sake;
    # like requests, judge it by its cause (refused, unreachable...) instead.
    if _is(e, _types("urllib3.exceptions", "NewConnectionError")):
        return False
    return _is(
        e,
        (TimeoutError, asyncio.TimeoutError),
        _types("requests.exceptions", "Timeout"),
        _types("urllib3.exceptions", "TimeoutError"),
        _types("httpx", "TimeoutException"),
        _types("httpcore", "TimeoutException"),
        _types("aiohttp", "ServerTimeoutError"),
    )


def _is_refused(e: BaseException) -> bool:
    return isinstance(e, ConnectionRefusedError) or (
        isinstance(e, OSError) and e.errno == errno.ECONNREFUSED
    )


def _is_reset(e: BaseException) -> bool:
    if isinstance(e, (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)):
        return True
    if isinstance(e, http.client.RemoteDisconnected):
        return True
    if isinstance(e, OSError) and e.errno in _RESET_ERRNOS:
        return True
    if _is(e, _types("httpx", "RemoteProtocolError"), _types("httpcore", "RemoteProtocolError")):
        # h11 says the peer closed the connection: before the head ("Server disconnected
        # without sending a response"), or in the body, which ``classify`` calls truncated.
        text = str(e).lower()
        return "disconnected" in text or "peer closed" in text
    return _is(e, _types("aiohttp", "ServerDisconnectedError"))


def _is_decode_error(e: BaseException) -> bool:
    if isinstance(e, (json.JSONDecodeError, UnicodeDecodeError)):
        return True
    if _is(
        e,
        _types("requests.exceptions", "ContentDecodingError", "InvalidJSONError"),
        _types("urllib3.exceptions", "DecodeError"),
        _types("httpx", "DecodingError"),
        _types("aiohttp", "ContentTypeError"),
    ):
        return True
    # aiohttp reports a bad Content-Encoding as a payload error; the wording is its only mark.
    return _is(e, _types("aiohttp", "ClientPayloadError")) and "decode" in str(e).lower()


def _is_truncated(e: BaseException) -> bool:
    return _is(
        e,
        (http.client.IncompleteRead,),
        _types("requests.exceptions", "ChunkedEncodingError"),
        _types("urllib3.exceptions", "IncompleteRead", "ProtocolError"),
        _types("aiohttp", "ClientPayloadError"),
        _types("aiohttp.http_exceptions", "ContentLengthError", "TransferEncodingError"),
    )


def _is_connection(e: BaseException) -> bool:
    # Every requests exception is an OSError (IOError) without an errno: only a real OS
    # error, one with an errno, says the connection itself failed.
    if isinstance(e, OSError) and e.errno is not None:
        return True
    return _is(
        e,
        (ConnectionError,),
        _types("requests.exceptions", "ConnectionError"),
        _types("httpx", "NetworkError"),
        _types("aiohttp", "ClientConnectionError", "ClientOSError"),
    )


def _is_client(e: BaseException) -> bool:
    return _is(
        e,
        _types("requests.exceptions", "RequestException"),
        _types("urllib3.exceptions", "HTTPError"),
        _types("httpx", "HTTPError", "StreamError"),
        _types("aiohttp", "ClientError"),
        (http.client.HTTPException,),
    )


# Order matters: a read timeout inside a ChunkedEncodingError is a timeout; a decode error
# wrapped in a payload error is an invalid body, not a truncation.
_RULES: tuple[tuple[str, Callable[[BaseException], bool]], ...] = (
    (TIMEOUT, _is_timeout),
    (CONNECTION_REFUSED, _is_refused),
    (CONNECTION_RESET, _is_reset),
    (INVALID_BODY, _is_decode_error),
    (TRUNCATED, _is_truncated),
    (CONNECTION_ERROR, _is_connection),
    (CLIENT_ERROR, _is_client),
)
