#!/usr/bin/env python3
"""Benchmark the flag server with an independent load generator (wrk).

Measures, on this machine with the load generator included:

1. throughput at zero latency with 12 KB images (keep-alive, 100 connections);
2. delivered versus configured latency at 100 and 1,000 concurrent connections
   with 100 ms latency, side by side with a minimal aiohttp handler that only
   sleeps 100 ms and returns the same 12 KB body (same event loop, same backlog).

Each scenario runs --repeats times, interleaved (server, baseline, server, ...),
and the medians are reported. This is a documented benchmark, not a test: run it
on a quiet machine. Requires `wrk` (Debian: apt-get install -y wrk).

    .venv/bin/python scripts/bench_server.py               # full run, about 4 minutes
    .venv/bin/python scripts/bench_server.py --repeats 3 --duration 3 --json out.json

wrk runs with 2 threads by default (--threads), sharing the 2 cores with the server.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flags_server import ServerConfig, running

BODY_SIZE = 12_288


def raise_open_files_limit() -> int:
    """Lift the soft open-files limit to the hard one: 1,000 connections need 2,000+ fds."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def minimal_server(port: int, delay: float, loop_name: str) -> None:
    """The baseline: an aiohttp handler that sleeps `delay` and returns 12 KB."""
    import asyncio

    from aiohttp import web

    body = b"x" * BODY_SIZE

    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(delay)
        return web.Response(body=body, content_type="image/gif")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/flags/{cc}/{name}", handler)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
        print("ready", flush=True)
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        await runner.cleanup()

    if loop_name == "uvloop":
        import uvloop

        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    loop.run_until_complete(main())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    m = re.match(r"([0-9.]+)(us|ms|s)", text)
    if not m:
        raise ValueError(text)
    return float(m.group(1)) * _UNITS[m.group(2)]


def wrk(url: str, connections: int, duration: float, threads: int) -> dict[str, float]:
    """Run wrk and parse requests/s, latency percentiles (ms) and socket errors."""
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--latency",
        "--timeout",
        "10s",
        url,
    ]
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=duration + 60, check=True
    ).stdout
    result: dict[str, float] = {}
    result["rps"] = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    for pct in ("50", "75", "90", "99"):
        result[f"p{pct}_ms"] = _ms(re.search(rf"\s{pct}%\s+(\S+)", out).group(1))
    result["max_ms"] = _ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", out).group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(map(int, errors.groups())) if errors else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    return result


def start_minimal(delay: float, loop_name: str) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            __file__,
            "--minimal-server",
            str(port),
            "--delay",
            str(delay),
            "--loop",
            loop_name,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if proc.stdout.readline().strip() != "ready":
        stop(proc)
        raise SystemExit("bench_server: the minimal baseline server did not start")
    return proc, f"http://127.0.0.1:{port}/flags/br/br.gif"


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def median_of(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per scenario (default 5)")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--minimal-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--delay", type=float, default=0.1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.minimal_server:
        minimal_server(args.minimal_server, args.delay, args.loop)
        return 0
    for name, value, lo, hi in (
        ("--repeats", args.repeats, 1, 1000),
        ("--duration", args.duration, 0.5, 3600),
        ("--threads", args.threads, 1, 64),
    ):
        if not lo <= value <= hi:  # checked before the run: a bad value must not cost minutes
            parser.error(f"{name}={value:g} is not allowed; use {lo:g}..{hi:g}")
    if args.json and not args.json.resolve().parent.is_dir():
        parser.error(f"--json {str(args.json)!r}: its directory does not exist")
    if not shutil.which("wrk"):
        print("bench_server: wrk not found; install it (apt-get install -y wrk)", file=sys.stderr)
        return 2
    nofile = raise_open_files_limit()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"# flags_server benchmark: {os.cpu_count()} CPUs, open files {nofile}, "
        f"wrk -t{args.threads}, {args.duration:g} s x {args.repeats} runs, {args.loop}, "
        f"load average before: {load}"
    )
    results: dict[str, list[dict[str, float]]] = {}

    def record(name: str, r: dict[str, float]) -> None:
        results.setdefault(name, []).append(r)
        server = f"  server p99 {r['server_p99_ms']:7.2f} ms" if "server_p99_ms" in r else ""
        print(
            f"  {name:<28} rps {r['rps']:>9.0f}  p50 {r['p50_ms']:7.2f} ms  "
            f"p99 {r['p99_ms']:7.2f} ms  max {r['max_ms']:7.2f} ms  "
            f"errors {r['socket_errors']:.0f}/{r['non_2xx']:.0f}{server}",
            flush=True,
        )

    config = ServerConfig(payload_size=BODY_SIZE, loop=args.loop)
    with running(config) as srv:
        url = f"{srv.flags_url}/br/br.gif"
        for _ in range(args.repeats):
            srv.configure(latency="0")
            record("throughput latency=0 c=100", wrk(url, 100, args.duration, args.threads))
            srv.configure(latency="100ms")
            for conns in (100, 1000):
                srv.reset_stats()
                r = wrk(url, conns, args.duration, args.threads)
                stats = srv.stats()
                r["server_p99_ms"] = stats["latency"]["p99"] * 1e3
                r["server_cpu_s"] = stats["cpu_s"]
                record(f"flags_server 100ms c={conns}", r)
                base, base_url = start_minimal(0.1, args.loop)
                try:
                    time.sleep(0.2)
                    record(
                        f"minimal-sleep 100ms c={conns}",
                        wrk(base_url, conns, args.duration, args.threads),
                    )
                finally:
                    stop(base)

    print("\n| scenario | req/s | p50 ms | p99 ms | p99 - 100 ms | server-side p99 ms |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    summary = {}
    for name, runs in results.items():
        m = median_of(runs)
        summary[name] = m
        excess = f"{m['p99_ms'] - 100:+.1f}" if "100ms" in name else ""
        server = f"{m['server_p99_ms']:.2f}" if "server_p99_ms" in m else ""
        print(
            f"| {name} | {m['rps']:.0f} | {m['p50_ms']:.2f} | {m['p99_ms']:.2f} | {excess} "
            f"| {server} |"
        )
    for conns in (100, 1000):
        ours_runs = results[f"flags_server 100ms c={conns}"]
        base_runs = results[f"minimal-sleep 100ms c={conns}"]
        ours = summary[f"flags_server 100ms c={conns}"]["p99_ms"] - 100
        base = summary[f"minimal-sleep 100ms c={conns}"]["p99_ms"] - 100
        # runs are interleaved in pairs, so paired ratios cancel slow drifts in machine load
        ratios = [
            (o["p99_ms"] - 100) / (b["p99_ms"] - 100)
            for o, b in zip(ours_runs, base_runs, strict=True)
            if b["p99_ms"] > 100
        ]
        ratio = f"{statistics.median(ratios):.2f}" if ratios else "n/a"
        print(
            f"c={conns}: p99 excess over 100 ms: flags_server {ours:+.1f} ms, minimal "
            f"{base:+.1f} ms (medians); median paired ratio of excesses {ratio}"
        )
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average after: {load} (other work on the machine inflates the tails)")
    if args.json:
        tmp = args.json.with_suffix(".tmp")
        tmp.write_text(json.dumps({"runs": results, "medians": summary}, indent=2))
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
