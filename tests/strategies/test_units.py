"""The pure pieces: classification of requests/urllib3 errors, retry timing, names, CPU work."""

from __future__ import annotations

import http.client
import json
import os
import pickle
from datetime import datetime, timedelta, timezone
from importlib.metadata import EntryPoint, distribution, entry_points
from pathlib import Path

import pytest
import requests
import urllib3.exceptions as u3

import strategies
from strategies._exceptions import DeadlineExceeded
from strategies._jobs import Fetched, content_length, record
from strategies.base import CpuWork, RequestRecord, Settings, Strategy, make_jobs
from strategies.classify import classify, exception_kind
from strategies.cpu import burn, calibrate
from strategies.retry import (
    BACKOFF_CAP_S,
    RETRY_AFTER_CAP_S,
    backoff_delay,
    parse_retry_after,
    should_retry,
)
from strategies.save import flag_filename, save_flag


def _raised(outer: type[BaseException], *args: object, cause: BaseException) -> BaseException:
    try:
        raise outer(*args) from cause
    except BaseException as exc:
        return exc


REQUESTS_ERRORS = [
    (
        requests.ConnectionError(
            u3.ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
        ),
        "connection_reset",
    ),
    (
        requests.ConnectionError(
            u3.ProtocolError(
                "Connection aborted.", http.client.RemoteDisconnected("closed without response")
            )
        ),
        "connection_reset",
    ),
    (
        requests.ConnectionError(
            u3.MaxRetryError(
                None,
                "/",
                _raised(
                    u3.NewConnectionError,
                    None,
                    "Failed to establish",
                    cause=ConnectionRefusedError(111, "Connection refused"),
                ),
            )
        ),
        "connection_refused",
    ),
    (
        requests.exceptions.ChunkedEncodingError(
            u3.ProtocolError(
                "Connection broken: IncompleteRead(5 bytes read, 10 more expected)",
                u3.IncompleteRead(5, 10),
            )
        ),
        "truncated",
    ),
    (
        requests.exceptions.ChunkedEncodingError(
            u3.ProtocolError("Connection broken", u3.ReadTimeoutError(None, "/", "Read timed out."))
        ),
        "timeout",
    ),
    (requests.ReadTimeout("read timed out"), "timeout"),
    (requests.ConnectTimeout("connect timed out"), "timeout"),
    (DeadlineExceeded("body still arriving"), "timeout"),
    (requests.exceptions.ContentDecodingError("bad gzip"), "invalid_body"),
    (requests.exceptions.InvalidURL("no host"), "client_error"),
    (OSError(113, "No route to host"), "connection_error"),
    (ValueError("a bug"), "internal_error"),
]


@pytest.mark.parametrize(("exc", "kind"), REQUESTS_ERRORS)
def test_requests_and_urllib3_errors_map_to_kinds(exc: BaseException, kind: str) -> None:
    assert exception_kind(exc) == kind
    assert classify(None, exc) == ("error", kind)


@pytest.mark.parametrize(
    ("args", "kwargs", "expected"),
    [
        ((200,), {}, ("ok", None)),
        ((404,), {}, ("not_found", "not_found")),
        ((503,), {}, ("error", "http_503")),
        ((418,), {}, ("error", "http_418")),
        ((None,), {}, ("error", "no_response")),
        ((200,), {"nbytes": 5, "content_length": 10}, ("error", "truncated")),
        ((200,), {"nbytes": 15, "content_length": 10}, ("error", "invalid_body")),
        ((200,), {"nbytes": 10, "content_length": 10}, ("ok", None)),
        ((200,), {"body_ok": False}, ("error", "invalid_body")),
        ((200, ConnectionResetError(104, "reset")), {}, ("error", "truncated")),
        ((None, ConnectionResetError(104, "reset")), {}, ("error", "connection_reset")),
        ((200, TimeoutError()), {}, ("error", "timeout")),
    ],
)
def test_classify(args: tuple, kwargs: dict, expected: tuple) -> None:
    assert classify(*args, **kwargs) == expected


@pytest.mark.parametrize(
    ("encoding", "checked"), [(None, 52), ("identity", 52), ("gzip", None), ("br", None)]
)
def test_a_compressed_body_is_not_checked_against_its_encoded_length(encoding, checked) -> None:
    """Both clients count decoded bytes; a gzip answer's Content-Length counts encoded ones."""
    assert content_length("52", encoding) == checked
    body = json.dumps({"country": "Brazil", "pad": "x" * 2000}).encode()
    got = Fetched(
        status=200, body=body, nbytes=len(body), content_length=content_length("52", encoding)
    )
    job = make_jobs("http://127.0.0.1:9/flags", ["BR"])[0]
    kind = "invalid_body" if checked else None  # more bytes than announced: not this body
    assert record(job, "metadata", 1, 0.0, 0.0, 0.0, got, "w").error_kind == kind


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    assert [backoff_delay(a, 0.1, 0.5) for a in (1, 2, 3)] == pytest.approx([0.05, 0.1, 0.2])
    assert backoff_delay(3, 0.1, 0.0) == 0.0
    assert backoff_delay(30, 0.1, 0.5) == pytest.approx(BACKOFF_CAP_S / 2)
    assert backoff_delay(1, 0.1, 0.5, retry_after_s=2.0) == 2.0
    assert backoff_delay(1, 0.1, 0.5, retry_after_s=3600.0) == RETRY_AFTER_CAP_S


def test_retry_after_parsing() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    later = (now + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(later, now=now) == pytest.approx(30.0)
    assert parse_retry_after("-5") == 0.0
    for bad in (None, "", "soon", "nan"):
        assert parse_retry_after(bad) is None


def test_only_errors_are_retried_while_attempts_remain() -> None:
    assert should_retry("error", 1, 1)
    assert not should_retry("error", 2, 1)
    assert not should_retry("not_found", 1, 5)
    assert not should_retry("ok", 1, 5)


@pytest.mark.parametrize(
    ("cc", "country", "name"),
    [
        ("BR", None, "BR.gif"),
        ("BR", "Brazil", "Brazil.gif"),
        ("BA", "Bosnia and Herzegovina", "Bosnia_and_Herzegovina.gif"),
        ("CI", "Côte d'Ivoire", "Côte_d'Ivoire.gif"),
        ("XX", "../../etc/passwd", "etc_passwd.gif"),
        ("XX", "..", "XX.gif"),
    ],
)
def test_flag_filenames_are_safe(cc: str, country: str | None, name: str) -> None:
    assert flag_filename(cc, country) == name


def test_save_flag_replaces_atomically_and_cleans_up(tmp_path) -> None:
    path = save_flag(b"GIF89a-one", str(tmp_path), "BR.gif")
    save_flag(b"GIF89a-two", str(tmp_path), "BR.gif")
    assert Path(path).read_bytes() == b"GIF89a-two"
    (tmp_path / "XX.gif").mkdir()
    with pytest.raises(OSError):
        save_flag(b"GIF89a", str(tmp_path), "XX.gif")
    assert sorted(os.listdir(tmp_path)) == ["BR.gif", "XX.gif"]  # no temporary file left


@pytest.mark.parametrize("kind", ["python", "hashlib"])
def test_calibrated_cpu_work_is_exact_and_repeatable(kind: str) -> None:
    work = calibrate(kind, 2)
    assert work.kind == kind and work.loops >= 1
    assert burn(work) == burn(CpuWork(kind, work.loops))
    assert calibrate(kind, 0) == CpuWork(kind, 0)
    assert burn(None) == 0


@pytest.mark.parametrize(("kind", "ms"), [("rust", 1), ("python", -1), ("python", float("nan"))])
def test_calibrate_rejects_bad_values(kind: str, ms: float) -> None:
    with pytest.raises(ValueError, match="allowed"):
        calibrate(kind, ms)


@pytest.mark.parametrize(
    "changes",
    [
        {"concurrency": 0},
        {"concurrency": 2.5},
        {"concurrency": True},
        {"timeout_s": 0},
        {"retries": -1},
        {"retries": 1.5},
        {"backoff_s": -1},
        {"probe_interval_s": 0},
        {"start_method": "teleport"},
    ],
)
def test_settings_reject_bad_values(changes: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(changes))):
        Settings(**changes)


@pytest.mark.parametrize(("kind", "loops"), [("rust", 1), ("python", -1), ("hashlib", 1.5)])
def test_cpu_work_rejects_bad_values(kind: str, loops) -> None:
    with pytest.raises(ValueError, match="cpu work"):
        CpuWork(kind, loops)  # type: ignore[arg-type]


def test_settings_and_records_cross_process_boundaries() -> None:
    settings = Settings(concurrency=3, cpu_work=CpuWork("hashlib", 5), start_method="spawn")
    assert pickle.loads(pickle.dumps(settings)) == settings
    record = RequestRecord(
        "BR", "flag", 2, 1.0, 1.5, 2.0, 503, "error", "http_503", 17, "123/spawn", final=False
    )
    assert pickle.loads(pickle.dumps(record)) == record  # process-pool results travel so


def test_registry_lists_builtins_and_builds_fresh_instances() -> None:
    names = strategies.names()
    assert names[:8] == [
        "sequential",
        "threadpool",
        "processpool",
        "asyncio",
        "asyncio_executor",
        "interpreterpool",
        "multiprocess_asyncio",
        "dask",
    ]
    assert strategies.builtin_names() == names[:8]
    for name in names[:8]:
        one, two = strategies.get(name), strategies.get(name)
        assert isinstance(one, Strategy) and one is not two
        assert one.name == name and one.description


def test_the_registry_is_flagbenchs_own_entry_points() -> None:
    """No second list: the built-ins are exactly the entry points of the installed distribution,
    and each one's object is the class whose ``name`` it is registered under."""
    own = distribution(strategies.DISTRIBUTION).entry_points.select(group=strategies.GROUP)
    assert sorted(ep.name for ep in own) == sorted(strategies.builtin_names())
    for ep in own:
        assert ep.load().name == ep.name


def test_unknown_strategy_names_the_allowed_ones() -> None:
    with pytest.raises(strategies.UnknownStrategy) as info:
        strategies.get("greenlets")
    message = str(info.value)
    assert "'greenlets'" in message
    for name in strategies.builtin_names():
        assert name in message
    assert isinstance(info.value, LookupError)


def test_without_any_registered_strategy_the_error_says_to_install(monkeypatch) -> None:
    monkeypatch.setattr(strategies, "entry_points", lambda group: [])
    assert strategies.names() == []
    with pytest.raises(strategies.UnknownStrategy, match=r"no strategy is registered.*pip install"):
        strategies.get("asyncio")


def test_entry_point_strategies_are_found(monkeypatch) -> None:
    group = strategies.GROUP
    real = list(entry_points(group=group))
    eps = [
        *real,
        EntryPoint("extra", "strategies.threadpool:ThreadPoolStrategy", group),
        EntryPoint("sequential", "strategies.threadpool:ThreadPoolStrategy", group),
        EntryPoint("broken", "strategies.base:Job", group),
    ]
    monkeypatch.setattr(strategies, "entry_points", lambda group: eps)
    assert strategies.names() == [*strategies.builtin_names(), "broken", "extra"]
    assert strategies.get("extra").name == "threadpool"
    assert strategies.get("sequential").name == "sequential"  # a built-in cannot be replaced
    with pytest.raises(strategies.StrategyError, match="broken"):
        strategies.get("broken")


def test_strategies_never_print_nor_import_the_harness_or_plotting() -> None:
    import ast
    import subprocess
    import sys

    package = Path(strategies.__file__).parent
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        calls = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
        ]
        assert not calls, f"{source.name} prints"
    modules = ", ".join(
        f"strategies.{p.stem}" for p in package.glob("*.py") if p.stem != "__init__"
    )
    code = (
        f"import sys, {modules}\n"
        "bad = [m for m in ('pandas', 'matplotlib', 'bench') if m in sys.modules]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
