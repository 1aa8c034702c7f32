"""Beyond one event loop: multiprocess_asyncio and dask split C and the jobs, merge the records
on one clock, and say what they started; the client and loop axes refuse what they cannot do."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

import strategies
from strategies import _shards
from strategies._exceptions import UnsupportedSetting
from strategies.base import RequestRecord, Settings, make_jobs
from strategies.clients import check, choose
from strategies.dask_distributed import batch_size

from .dask_cluster import CliCluster
from .helpers import check_records, jobs_for, prepare


def _children() -> set[int]:
    """Live processes whose parent is this one (Linux /proc): the flag server, and whatever a
    strategy left behind."""
    me = str(os.getpid())
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if fields[1] == me and fields[0] != "Z" and not _helper(entry):
                out.add(int(entry.name))
    return out


def _helper(entry: Path) -> bool:
    """multiprocessing's resource tracker: started once for the process, ends with it."""
    try:
        return b"resource_tracker" in (entry / "cmdline").read_bytes()
    except OSError:
        return False


@pytest.mark.parametrize(
    ("total", "parts", "shares"),
    [(100, 2, [50, 50]), (5, 2, [3, 2]), (7, 3, [3, 2, 2]), (3, 3, [1, 1, 1])],
)
def test_c_splits_into_shares_that_add_up_to_c(total, parts, shares) -> None:
    assert _shards.split(total, parts) == shares
    assert _shards.places(8, 3, 100) == 3 and _shards.places(2, 100, 1) == 1


def test_shards_interleave_in_proportion_to_the_shares() -> None:
    shards = _shards.shard(12, [3, 2])
    assert shards == [[0, 1, 2, 5, 6, 7, 10, 11], [3, 4, 8, 9]]
    jobs = make_jobs("http://127.0.0.1:9/flags", ["BR", "BR", "CN"])
    assert [j.cc for j in _shards.unfinished(jobs, ["BR"])] == ["BR", "CN"]


def test_batches_fill_a_round_of_slots_and_stay_bounded() -> None:
    assert batch_size(30, 2) == 4
    assert batch_size(50, 10) == 10  # at least one round of the worker's slots
    assert batch_size(100_000, 50) == 1000
    assert batch_size(3, 10) == 3


def test_multiprocess_asyncio_splits_c_between_p_processes(flag_server) -> None:
    """C = 5 over P = 2: shares 3 and 2, so the server sees 5 in flight, never more, over 5
    kept-alive connections; records come from two children, merged on one clock."""
    before = _children()
    prepare(flag_server, latency="100ms")
    jobs = jobs_for(flag_server, 40)
    strategy = strategies.get("multiprocess_asyncio")
    settings = Settings(concurrency=5, processes=2, timeout_s=5.0)
    about = strategy.start(jobs, settings)
    try:
        records = strategy.run(jobs, settings)
    finally:
        strategy.close()
    assert about["processes"] == 2
    assert check_records(records, jobs)["ok"] == 40
    pids = Counter(r.worker.split("/")[0] for r in records)
    assert len(pids) == 2 and str(os.getpid()) not in pids
    assert sorted(pids.values()) == [16, 24]  # jobs in proportion to the shares 2 and 3
    stats = flag_server.wait_idle()
    assert (stats["requests"], stats["peak_inflight"], stats["connections"]) == (40, 5, 5)
    assert _children() <= before  # reaped


def test_multiprocess_asyncio_never_starts_more_processes_than_c(flag_server) -> None:
    prepare(flag_server, latency="0")
    jobs = jobs_for(flag_server, 10)
    strategy = strategies.get("multiprocess_asyncio")
    settings = Settings(concurrency=1, processes=4)
    try:
        assert strategy.start(jobs, settings)["processes"] == 1
        records = strategy.run(jobs, settings)
    finally:
        strategy.close()
    assert check_records(records, jobs)["ok"] == 10
    assert flag_server.wait_idle()["peak_inflight"] == 1


def test_a_dead_loop_process_loses_no_job(flag_server, monkeypatch) -> None:
    """A child that dies mid-shard: its jobs end as ``worker_lost``, the other shard is kept."""
    before = _children()
    import strategies._jobs

    monkeypatch.setattr(
        strategies._jobs,
        "post_process",
        lambda body, cc, *rest: os._exit(3) if cc == "AF" else None,
    )
    prepare(flag_server, latency="0")
    jobs = make_jobs(flag_server.flags_url, ["AF", "BR", "CN", "IN"])
    records = strategies.get("multiprocess_asyncio").run(
        jobs, Settings(concurrency=2, processes=2, start_method="fork")
    )
    check_records(records, jobs)
    finals = {r.cc: r.error_kind for r in records if r.final}
    # shares 1 and 1: AF and CN form one shard, BR and IN the other
    assert finals == {"AF": "worker_lost", "CN": "worker_lost", "BR": None, "IN": None}
    assert _children() <= before


def _cluster_check(records: list[RequestRecord], jobs, flag_server, c: int) -> set[str]:
    assert check_records(records, jobs)["ok"] == len(jobs)
    stats = flag_server.wait_idle()
    assert (stats["requests"], stats["peak_inflight"], stats["connections"]) == (len(jobs), c, c)
    return {r.worker.rsplit("/", 2)[0] for r in records}


def test_dask_on_a_local_cluster_started_for_the_trial(flag_server) -> None:
    """The embedded default: a LocalCluster of two workers, started outside ``run`` and said
    what it is; C is the total over both; everything is reaped at ``close``."""
    before = _children()
    prepare(flag_server, latency="200ms")
    jobs = jobs_for(flag_server, 80)
    strategy = strategies.get("dask")
    settings = Settings(concurrency=20, dask_workers=2, dask_threads=2, timeout_s=5.0)
    try:
        about = strategy.start(jobs, settings)
        records = strategy.run(jobs, settings)
    finally:
        strategy.close()
    assert about["cluster"] == "local" and about["workers"] == 2
    assert about["scheduler"].startswith("tcp://127.0.0.1:")
    assert len(_cluster_check(records, jobs, flag_server, 20)) == 2
    assert _children() <= before


def test_dask_on_a_cluster_of_command_line_processes(flag_server, dask_cluster) -> None:
    """``dask scheduler`` and two ``dask worker`` processes: records carry each worker's
    address, come back on this process's clock (offsets measured at the start), C in total."""
    prepare(flag_server, latency="100ms")
    jobs = jobs_for(flag_server, 60)
    strategy = strategies.get("dask")
    settings = Settings(concurrency=12, scheduler=dask_cluster.address, timeout_s=5.0)
    probes: list = []
    try:
        about = strategy.start(jobs, settings)
        records = strategy.run(jobs, settings, probes=probes)
    finally:
        strategy.close()
    assert about["cluster"] == "existing" and about["scheduler"] == dask_cluster.address
    assert set(about["clock_offsets_s"]) == _cluster_check(records, jobs, flag_server, 12)
    assert len(about["clock_offsets_s"]) == 2
    assert all(abs(o) < 0.05 for o in about["clock_offsets_s"].values())  # one machine
    first = min(r.t_queued for r in records)
    assert all(r.t_start >= first for r in records)
    assert {p.kind for p in probes} == {"loop_lag"}


def test_a_dask_worker_that_dies_loses_only_its_own_batches(flag_server, tmp_path) -> None:
    """A worker killed mid-trial (its nanny starts another under a new address): its pinned
    batches would wait for ever; they end as ``worker_lost`` and the other worker's finish."""
    prepare(flag_server, latency="50ms")
    jobs = jobs_for(flag_server, 60)
    cluster = CliCluster(tmp_path).start()
    killed: list[int] = []

    def progress(record: RequestRecord) -> None:
        if not killed:
            killed.append(int(record.worker.rsplit("/", 2)[1]))
            os.kill(killed[0], signal.SIGKILL)

    try:
        t0 = time.perf_counter()
        records = strategies.get("dask").run(
            jobs,
            Settings(concurrency=4, scheduler=cluster.address, timeout_s=5.0),
            progress=progress,
        )
        took = time.perf_counter() - t0
    finally:
        cluster.stop()
    check_records(records, jobs)
    finals = Counter(r.error_kind for r in records if r.final)
    assert finals["worker_lost"] > 0 and finals[None] >= 30, finals
    assert took < 20


def test_dask_shifts_records_by_each_workers_clock_offset() -> None:
    """A worker whose clock is 1000 s ahead: its records come back on this process's clock."""
    from strategies._jobs import Ledger
    from strategies.dask_distributed import DaskStrategy

    jobs = make_jobs("http://127.0.0.1:9/flags", ["BR"])
    ledger = Ledger(jobs, 5.0, None)
    rec = RequestRecord("BR", "flag", 1, 1005.0, 1005.5, 1006.0, 200, "ok", None, 10, "w")

    class Done:
        def result(self):
            return [(0, [rec])]

    DaskStrategy._collect(ledger, Done(), [(0, jobs[0])], 1000.0)
    (back,) = ledger.close()
    assert (back.t_queued, back.t_start, back.t_end) == (5.0, 5.5, 6.0)


def test_a_client_or_loop_a_strategy_cannot_use_is_refused_before_any_request(flag_server) -> None:
    prepare(flag_server, latency="0")
    jobs = jobs_for(flag_server, 3)
    cases = [
        (
            "asyncio",
            Settings(client="urllib3"),
            "cannot use client 'urllib3'; it can use: aiohttp, httpx",
        ),
        ("threadpool", Settings(client="aiohttp"), "it can use: requests, httpx, urllib3"),
        (
            "sequential",
            Settings(loop="uvloop"),
            "cannot run on loop 'uvloop'; it has no event loop",
        ),
    ]
    for name, settings, message in cases:
        with pytest.raises(UnsupportedSetting, match=message):
            strategies.get(name).run(jobs, settings)
    assert flag_server.wait_idle()["requests"] == 0
    assert choose(strategies.get("asyncio"), Settings()).client == "aiohttp"
    assert choose(strategies.get("threadpool"), Settings()).loop == ""


@pytest.mark.parametrize("load", [True, False])
def test_a_client_library_that_is_not_installed_is_one_line(monkeypatch, load) -> None:
    """The worker imports the library (``load``); the harness, before a run, only looks for
    it: both refuse a missing one alike."""
    monkeypatch.setitem(sys.modules, "httpx", None)  # what Python does for a missing module
    with pytest.raises(UnsupportedSetting, match=r"^httpx is not installed; .*pip install httpx$"):
        choose(strategies.get("asyncio"), Settings(client="httpx"), load=load)
    assert choose(strategies.get("asyncio"), Settings(), load=load).client == "aiohttp"


def test_dask_scheduler_address_is_checked() -> None:
    with pytest.raises(UnsupportedSetting, match="expected tcp://HOST:PORT"):
        check(strategies.get("dask"), Settings(scheduler="127.0.0.1:8786"))


def test_without_dask_installed_the_strategy_says_how_to_install_it(tmp_path) -> None:
    """One line, before anything runs, from the library and from the command line."""
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "import strategies\n"
        "from strategies.base import Settings\n"
        "from strategies.clients import check\n"
        "try:\n"
        "    check(strategies.get('dask'), Settings())\n"
        "except strategies.StrategyError as exc:\n"
        "    print(exc)\n"
        "from bench.cli import main\n"
        f"sys.exit(main(['run', 'dask', 'BR', '--out', {str(tmp_path)!r}]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    line = (
        "the dask strategy needs dask.distributed, which is not installed; install it "
        "with: pip install 'flagbench[dask]'"
    )
    assert proc.stdout.strip() == line
    assert proc.returncode == 2 and proc.stderr.strip() == f"flagbench: error: {line}"
    assert not list(tmp_path.iterdir())
