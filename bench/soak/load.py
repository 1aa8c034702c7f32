"""Load held: many requests at high concurrency with mixed faults, every one accounted for.

The run goes through the real CLI against a flag server the soak starts itself (``--server``),
so the server's descriptors can be counted before and after: a connection or a held timeout
that leaked would show there.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench.results import store
from bench.soak import procs
from bench.soak.runs import finish, last_line, lost_requests, sandbox
from bench.soak.table import Row
from flags_server import RunningServer, ServerConfig, running

#: 10% of the requests get a fault, of every kind the server injects.
MIXED_FAULTS = {
    "--error-rate": 0.04,
    "--reset-rate": 0.02,
    "--truncate-rate": 0.02,
    "--timeout-rate": 0.01,
    "--slow-rate": 0.01,
}
SETTLE_S = 30.0


@dataclass(frozen=True)
class Load:
    strategy: str
    requests: int
    concurrency: int
    latency: str = "50ms"
    timeout_s: float = 2.0


def _settled_fds(srv: RunningServer, before: int) -> int:
    """The server's descriptors once its clients' connections have closed: back to ``before``
    within SETTLE_S, or what is left then."""
    deadline = time.monotonic() + SETTLE_S
    while procs.open_fds(srv.pid) > before and time.monotonic() < deadline:
        time.sleep(0.1)
    return procs.open_fds(srv.pid)


def hold(load: Load) -> Row:
    """Run ``load`` once as a one-trial run; the row says what the server and client counted."""
    started = time.monotonic()
    faults = [str(x) for option, rate in MIXED_FAULTS.items() for x in (option, rate)]
    with sandbox() as box, running(ServerConfig(seed=11, timeout_hold_s=5.0)) as srv:
        before = procs.open_fds(srv.pid)
        proc = box.start(
            "run",
            load.strategy,
            "-a",
            "-n",
            str(load.requests),
            "-m",
            str(load.concurrency),
            "--latency",
            load.latency,
            "--timeout",
            str(load.timeout_s),
            *faults,
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--server",
            srv.flags_url,
            "--out",
            str(box.out),
            "--no-report",
        )
        code, stderr = finish(proc)
        after = _settled_fds(srv, before)
        left = box.left_over(proc.pid)
        row = Row(
            f"load: {load.strategy}",
            f"{load.requests:,} requests, C = {load.concurrency:,}",
            "",
            "",
            fds=f"{before} -> {after}",
            left_over=left,
        )
        if code not in (0, 1):
            row.result, row.passed, row.lost = f"exit {code}: {last_line(stderr)}", False, None
            return _timed(row, started)
        t = store.load(box.run_dir()).trials.iloc[0]
    injected = {
        k: int(t[f"server_injected_{k}"])
        for k in ("http_error", "reset", "truncate", "timeout", "slow")
    }
    row.faults = ", ".join(f"{k} {v:,}" for k, v in injected.items())
    row.lost = lost_requests(t.to_frame().T)
    row.rss_mib = float(t["rss_peak_mib"])
    ok = t["status"] == "ok" and bool(t["counts_match"])
    row.result = (
        f"{t['status']}: {int(t['n_requests']):,} sent, {int(t['server_requests']):,} "
        f"counted by the server, {int(t['n_ok']):,} ok, {int(t['n_error']):,} errors"
        + ("" if ok else f"; {t['failure']}")
    )
    row.passed = ok and row.lost == 0 and after <= before and left == 0 and code == 0
    return _timed(row, started)


def _timed(row: Row, started: float) -> Row:
    row.seconds = time.monotonic() - started
    return row
