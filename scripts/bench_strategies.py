"""Benchmark: each built-in strategy against the ideal and against a minimal hand-written script.

    .venv/bin/python scripts/bench_strategies.py            # 100 ms, 1,000 jobs, C = 100
    .venv/bin/python scripts/bench_strategies.py --repeats 7 --json out.json

Every trial runs in a fresh Python process (as the harness does): imports, job building and
the server are outside the timed region, which covers exactly one call (``strategy.run`` or
the baseline's function). Client CPU is that process's user + system time, including reaped
pool children. Trials are interleaved (each repeat runs every configuration once, in a
rotated order) and medians are reported, with the ratio of each strategy to the baseline
written with the same library, and efficiency = ideal / wall with ideal = ceil(N/C) x latency.

``sequential`` and its baseline use ``--seq-jobs`` (default 100) jobs so a repeat takes 10 s,
not 100 s; their ideal is N x latency. The server counts every trial (requests, peak in
flight, connections) and the script refuses a trial whose counts do not match. A peak below C
is reported, not refused: a process pool whose last workers start after the first ones finish
never has all C requests in flight, and that is the model's cost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from bench.run.probes import reap_fork_server
from strategies.pools import default_start_method

TIMEOUT_S = 10.0

# name -> (kind, which baseline it is compared with)
CONFIGS: dict[str, tuple[str, str | None]] = {
    "sequential": ("strategy", "base_requests_loop"),
    "threadpool": ("strategy", "base_threadpool"),
    "processpool": ("strategy", "base_processpool"),
    "asyncio": ("strategy", "base_aiohttp"),
    "asyncio_executor": ("strategy", "base_aiohttp"),
    "base_requests_loop": ("baseline", None),
    "base_threadpool": ("baseline", None),
    "base_processpool": ("baseline", None),
    "base_aiohttp": ("baseline", None),
}
SEQUENTIAL = ("sequential", "base_requests_loop")


# -- the minimal hand-written baselines: what a competent user would type -----------------
# Their requests Sessions ignore the environment (trust_env = False), as the strategies' do:
# an HTTP_PROXY there would send loopback traffic elsewhere, and the per-request proxy and
# .netrc lookups would slow the baseline alone, flattering every ratio against it.


def _session() -> Any:
    import requests

    session = requests.Session()
    session.trust_env = False
    return session


def base_requests_loop(urls: list[str], concurrency: int) -> list[int]:
    with _session() as session:
        return [session.get(url, timeout=TIMEOUT_S).status_code for url in urls]


def base_threadpool(urls: list[str], concurrency: int) -> list[int]:
    local = threading.local()

    def get(url: str) -> int:
        if not hasattr(local, "session"):
            local.session = _session()
        return local.session.get(url, timeout=TIMEOUT_S).status_code

    with ThreadPoolExecutor(max_workers=concurrency) as executor:
        return list(executor.map(get, urls))


_process_session = None


def _init_process() -> None:
    global _process_session
    _process_session = _session()


def _process_get(url: str) -> int:
    return _process_session.get(url, timeout=TIMEOUT_S).status_code


def base_processpool(urls: list[str], concurrency: int) -> list[int]:
    import multiprocessing

    # the strategy's start method (forkserver where it exists), so both start alike
    context = multiprocessing.get_context(default_start_method())
    with ProcessPoolExecutor(
        max_workers=concurrency, initializer=_init_process, mp_context=context
    ) as executor:
        return list(executor.map(_process_get, urls))


def base_aiohttp(urls: list[str], concurrency: int) -> list[int]:
    import aiohttp

    async def main() -> list[int]:
        semaphore = asyncio.Semaphore(concurrency)
        timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session:

            async def get(url: str) -> int:
                async with semaphore, session.get(url) as resp:
                    await resp.read()
                    return resp.status

            return await asyncio.gather(*(get(url) for url in urls))

    return asyncio.run(main())


BASELINES: dict[str, Callable[[list[str], int], list[int]]] = {
    "base_requests_loop": base_requests_loop,
    "base_threadpool": base_threadpool,
    "base_processpool": base_processpool,
    "base_aiohttp": base_aiohttp,
}


# -- one trial, in a fresh process ---------------------------------------------------------


def _cpu() -> float:
    reap_fork_server()  # its pool children's CPU reaches RUSAGE_CHILDREN once it is reaped
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def child(task: dict[str, Any]) -> dict[str, Any]:
    from flags_server.catalog import codes

    known = list(codes())
    cc = [known[i % len(known)] for i in range(task["jobs"])]
    name, concurrency = task["name"], task["concurrency"]
    if name in BASELINES:
        import aiohttp  # noqa: F401  (imports outside the timed region, as for strategies)
        import requests  # noqa: F401

        fn = BASELINES[name]
        urls = [f"{task['flags_url']}/{c.lower()}/{c.lower()}.gif" for c in cc]
        cpu0, t0 = _cpu(), time.perf_counter()
        statuses = fn(urls, concurrency)
        wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
        ok = sum(s == 200 for s in statuses)
    else:
        import strategies
        from strategies.base import Settings, count_outcomes, make_jobs

        strategy = strategies.get(name)
        jobs = make_jobs(task["flags_url"], cc)
        settings = Settings(concurrency=concurrency, timeout_s=TIMEOUT_S)
        probes: list = []
        cpu0, t0 = _cpu(), time.perf_counter()
        records = strategy.run(jobs, settings, probes=probes)
        wall, cpu = time.perf_counter() - t0, _cpu() - cpu0
        ok = count_outcomes(records)["ok"]
    return {"wall_s": wall, "cpu_s": cpu, "ok": ok}


def run_trial(srv: Any, name: str, jobs: int, concurrency: int) -> dict[str, Any]:
    task = {"name": name, "jobs": jobs, "concurrency": concurrency, "flags_url": srv.flags_url}
    srv.reset_stats()
    proc = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(task)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{name} trial failed:\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    stats = srv.stats()
    if result["ok"] != jobs or stats["requests"] != jobs:
        raise RuntimeError(
            f"{name}: counts do not match: client ok={result['ok']}, server "
            f"requests={stats['requests']}"
        )
    result["connections"] = stats["connections"]
    result["peak_inflight"] = stats["peak_inflight"]
    return result


# -- the parent: server, interleaving, medians, table ---------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--seq-jobs", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--latency", default="100ms")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated configuration names")
    parser.add_argument("--json", default="", help="also write the raw trials here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    for flag in ("jobs", "seq_jobs", "concurrency", "repeats"):
        if getattr(args, flag) < 1:
            parser.error(
                f"--{flag.replace('_', '-')}={getattr(args, flag)} is not allowed; use >= 1"
            )
    names = [n for n in args.only.split(",") if n] or list(CONFIGS)
    bad = [n for n in names if n not in CONFIGS]
    if bad:
        parser.error(f"--only {','.join(bad)} is not allowed; choose from {', '.join(CONFIGS)}")

    from flags_server import ConfigError, ServerConfig, running
    from flags_server.latency import parse_latency

    try:
        latency_s = parse_latency(args.latency).mean_s
    except (ConfigError, ValueError) as exc:
        parser.error(f"--latency {args.latency!r}: {exc}")
    if args.json and not os.path.isdir(os.path.dirname(os.path.abspath(args.json))):
        parser.error(f"--json {args.json!r}: its directory does not exist")
    trials: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    with running(ServerConfig(seed=1, latency=args.latency)) as srv:
        for repeat in range(args.repeats):
            order = names[repeat % len(names) :] + names[: repeat % len(names)]
            for name in order:
                jobs = args.seq_jobs if name in SEQUENTIAL else args.jobs
                result = run_trial(srv, name, jobs, args.concurrency)
                result["repeat"] = repeat
                trials[name].append(result)
                print(
                    f"repeat {repeat + 1}/{args.repeats} {name:<20} wall {result['wall_s']:.3f} s"
                    f"  cpu {result['cpu_s']:.3f} s",
                    file=sys.stderr,
                )

    rows = []
    for name in names:
        jobs = args.seq_jobs if name in SEQUENTIAL else args.jobs
        ideal = (
            jobs * latency_s
            if name in SEQUENTIAL
            else (math.ceil(jobs / args.concurrency) * latency_s)
        )
        wall = statistics.median(t["wall_s"] for t in trials[name])
        cpu = statistics.median(t["cpu_s"] for t in trials[name])
        baseline = CONFIGS[name][1]
        ratio = None
        if baseline in trials:
            ratio = wall / statistics.median(t["wall_s"] for t in trials[baseline])
        rows.append(
            {
                "name": name,
                "jobs": jobs,
                "ideal_s": ideal,
                "wall_median_s": wall,
                "efficiency": ideal / wall,
                "cpu_median_s": cpu,
                "vs_baseline": ratio,
                "baseline": baseline,
                "connections": max(t["connections"] for t in trials[name]),
                "peak_inflight": min(t["peak_inflight"] for t in trials[name]),
                "walls": [round(t["wall_s"], 4) for t in trials[name]],
            }
        )
    print(
        f"\nlatency {args.latency}, C = {args.concurrency}, {args.repeats} repeats, "
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n"
    )
    print(
        "| configuration | N | ideal s | wall median s | efficiency | client CPU s "
        "| wall / baseline | peak in flight | connections |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        ratio = "" if r["vs_baseline"] is None else f"{r['vs_baseline']:.3f} ({r['baseline']})"
        print(
            f"| {r['name']} | {r['jobs']} | {r['ideal_s']:.2f} | {r['wall_median_s']:.3f} "
            f"| {r['efficiency']:.3f} | {r['cpu_median_s']:.3f} | {ratio} | {r['peak_inflight']} "
            f"| {r['connections']} |"
        )
    if args.json:
        from pathlib import Path

        out = Path(args.json)
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text(json.dumps({"args": vars(args), "rows": rows, "trials": trials}, indent=1))
        os.replace(tmp, out)
    failed = [r["name"] for r in rows if r["vs_baseline"] is not None and r["vs_baseline"] > 1.05]
    if failed:
        print(f"\nmore than 5% slower than the baseline: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
