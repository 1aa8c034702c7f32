"""``interpreterpool`` against the real server: every request accounted for, exactly as the
server counts it, in an interpreter that has InterpreterPoolExecutor (this one, else the
3.13t or 3.13 that ``flagbench python install`` builds, in flagbench's venv for it); and one
clear line where it is unavailable."""

from __future__ import annotations

import pickle
import sys
from collections import Counter
from pathlib import Path

import pytest

import strategies
from bench._exceptions import BenchError
from bench._subprocess import run_captured
from bench.run.process import worker_env
from strategies.base import RequestRecord, Settings
from strategies.clients import choose
from strategies.interpreterpool import CLIENTS, InterpreterPoolStrategy, unavailable

from .helpers import (
    check_against_server,
    check_records,
    client_view,
    jobs_for,
    prepare,
)

ELSEWHERE = Path(__file__).with_name("elsewhere.py")
NAME = "interpreterpool"


@pytest.fixture(scope="module")
def pool_python() -> str:
    """An interpreter that can run the strategy: this one, else a cached 3.13t or 3.13."""
    if not unavailable():
        return sys.executable
    from bench.define.spec import suite_from_mapping
    from bench.run.checks import prepare_pythons

    reasons = []
    for spec in ("3.13t", "3.13"):
        suite = suite_from_mapping(
            {"suite": {"name": "t", "strategies": [NAME]}, "defaults": {"python": spec}}, "t"
        )
        try:
            python = prepare_pythons(suite, lambda line: None)[spec]
        except BenchError as exc:
            reasons.append(str(exc))
            continue
        if NAME not in python.check.unavailable:
            return python.executable
        reasons.append(python.check.unavailable[NAME])
    pytest.skip("no interpreter here runs interpreterpool: " + " | ".join(reasons))


def _run(python: str, jobs, settings: Settings, tmp_path: Path) -> list[RequestRecord]:
    src, dst = tmp_path / "in.pickle", tmp_path / "out.pickle"
    src.write_bytes(pickle.dumps((NAME, strategies.ref(NAME), jobs, settings)))  # start, run
    proc = run_captured([python, str(ELSEWHERE), str(src), str(dst)], 300, env=worker_env())
    assert proc.returncode == 0, proc.stderr
    out = pickle.loads(dst.read_bytes())
    assert not isinstance(out, str), out
    return out


FAULT_MIX = {
    "latency": "10ms",
    "error_rate": 0.15,
    "error_codes": [503, 500, 418],
    "timeout_rate": 0.08,
    "timeout_hold_s": 0.4,
    "reset_rate": 0.08,
    "truncate_rate": 0.08,
}


@pytest.mark.parametrize("client", CLIENTS)
def test_fault_mix_counts_add_up_and_match_the_servers(
    flag_server, pool_python, client, tmp_path
) -> None:
    cfg = prepare(flag_server, **FAULT_MIX)
    jobs = jobs_for(flag_server, 40, 4)
    records = _run(
        pool_python, jobs, Settings(concurrency=4, timeout_s=0.2, client=client), tmp_path
    )
    check_against_server(flag_server, cfg, records, jobs)
    assert {r.client for r in records if r.attempt > 0} == {client}


def test_c_subinterpreters_keep_c_requests_in_flight_with_retries_and_files(
    flag_server, pool_python, tmp_path
) -> None:
    prepare(flag_server, latency="100ms", error_rate=0.2, error_codes=[503])
    jobs = jobs_for(flag_server, 16, 1)
    out = tmp_path / "flags"
    settings = Settings(concurrency=4, timeout_s=5, retries=3, backoff_s=0.001, save_dir=str(out))
    records = _run(pool_python, jobs, settings, tmp_path)
    counts = check_records(records, jobs)
    stats = flag_server.wait_idle()
    assert client_view(records)["requests"] == stats["requests"] > len(jobs)  # retries ran
    assert stats["peak_inflight"] == 4
    assert counts["not_found"] == 1 and counts["ok"] == len(list(out.iterdir()))
    workers = Counter(r.worker for r in records if r.attempt > 0)
    assert len(workers) == 4 and all("/interp-" in w for w in workers), workers
    assert len({w.split("/")[0] for w in workers}) == 1  # one process: subinterpreters


def test_a_client_it_does_not_offer_is_one_line() -> None:
    from strategies._exceptions import UnsupportedSetting

    with pytest.raises(UnsupportedSetting) as info:
        choose(InterpreterPoolStrategy(), Settings(client="aiohttp"))
    assert str(info.value) == (
        "strategy 'interpreterpool' cannot use client 'aiohttp'; it can use: " + ", ".join(CLIENTS)
    )


@pytest.mark.skipif(not unavailable(), reason="this interpreter has InterpreterPoolExecutor")
def test_where_unavailable_it_says_why_in_one_line() -> None:
    why = InterpreterPoolStrategy().unavailable()
    assert "\n" not in why and "InterpreterPoolExecutor" in why
    assert "pip install interpreters-pep-734" in why
    assert NAME not in strategies.runnable_names() and NAME in strategies.builtin_names()
