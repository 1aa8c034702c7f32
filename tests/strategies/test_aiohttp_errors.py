"""aiohttp failures a real server cannot produce on demand, mapped by the shared classifier.

aioresponses replaces the network inside ``ClientSession`` only; everything else (the
strategy, its retries, the records, the classification) runs for real.
"""

from __future__ import annotations

import asyncio
import errno
import inspect
import types

import aiohttp
import pytest
from aioresponses import aioresponses

import strategies
from strategies.base import Settings, make_jobs

from .helpers import check_records

BASE = "http://127.0.0.1:9/flags"  # never contacted: aioresponses answers
GIF = b"GIF89a" + bytes(64)
JOBS = make_jobs(BASE, ["BR"])
FLAG = JOBS[0].flag_url
META = JOBS[0].metadata_url


class _Response(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds responses without the ``stream_writer`` newer aiohttp needs."""

    def __init__(self, *args, **kwargs) -> None:
        if "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters:
            kwargs.setdefault("stream_writer", types.SimpleNamespace(output_size=0))
        super().__init__(*args, **kwargs)


def _reply(m, url: str, **kwargs) -> None:
    m.get(url, response_class=_Response, **kwargs)


def _refused() -> aiohttp.ClientConnectorError:
    key = types.SimpleNamespace(host="127.0.0.1", port=9, ssl=None)
    return aiohttp.ClientConnectorError(key, ConnectionRefusedError(errno.ECONNREFUSED, "refused"))


EXCEPTIONS = {
    "connection_refused": _refused,
    "connection_reset": lambda: aiohttp.ServerDisconnectedError(),
    "truncated": lambda: aiohttp.ClientPayloadError("Response payload is not completed"),
    "timeout": lambda: asyncio.TimeoutError(),
    "invalid_body": lambda: aiohttp.ClientPayloadError("Can not decode content-encoding: gzip"),
}


def _run(name: str, settings: Settings, mock) -> list:
    with aioresponses() as m:
        mock(m)
        records = strategies.get(name).run(JOBS, settings)
    check_records(records, JOBS)
    return records


@pytest.mark.parametrize("name", ["asyncio", "asyncio_executor"])
@pytest.mark.parametrize("kind", sorted(EXCEPTIONS))
def test_exceptions_map_to_error_kinds(name: str, kind: str) -> None:
    records = _run(name, Settings(), lambda m: m.get(FLAG, exception=EXCEPTIONS[kind]()))
    assert [(r.status, r.outcome, r.error_kind) for r in records] == [(None, "error", kind)]


def test_reset_os_error_on_a_kept_alive_connection_is_a_reset() -> None:
    exc = aiohttp.ClientOSError(errno.ECONNRESET, "Connection reset by peer")
    records = _run("asyncio", Settings(), lambda m: m.get(FLAG, exception=exc))
    assert records[0].error_kind == "connection_reset"


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind"),
    [
        (200, b"<html>not a flag</html>", {}, "invalid_body"),
        (200, GIF, {"Content-Length": str(len(GIF) + 100)}, "truncated"),
        (503, b"busy", {}, "http_503"),
        (404, b"no such flag", {}, "not_found"),
        (200, GIF, {}, None),
    ],
)
def test_responses_map_to_outcomes(status: int, body: bytes, headers: dict, kind) -> None:
    records = _run(
        "asyncio",
        Settings(),
        lambda m: _reply(m, FLAG, status=status, body=body, headers=headers),
    )
    assert [(r.status, r.error_kind) for r in records] == [(status, kind)]


def test_bad_metadata_ends_the_job_before_the_flag() -> None:
    def mock(m) -> None:
        _reply(m, META, status=200, body=b"{not json")
        _reply(m, FLAG, status=200, body=GIF)

    records = _run("asyncio", Settings(metadata=True), mock)
    assert [(r.resource, r.error_kind, r.final) for r in records] == [
        ("metadata", "invalid_body", True)
    ]


def test_retry_after_then_success_with_retries() -> None:
    def mock(m) -> None:
        _reply(m, FLAG, status=429, headers={"Retry-After": "0.05"})
        m.get(FLAG, exception=aiohttp.ServerDisconnectedError())
        _reply(m, FLAG, status=200, body=GIF)

    records = _run("asyncio", Settings(retries=2, backoff_s=0.0), mock)
    assert [(r.attempt, r.error_kind, r.final) for r in records] == [
        (1, "http_429", False),
        (2, "connection_reset", False),
        (3, None, True),
    ]
    assert records[1].t_start - records[0].t_end >= 0.05
