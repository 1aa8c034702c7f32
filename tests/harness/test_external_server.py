"""``--server``: a run never labels a trial with settings the server did not apply.

The servers are real, on loopback: a tiny aiohttp app whose admin API refuses
``PUT /_config``, and a real flags_server behind a tiny aiohttp proxy that refuses ``/_stats``.
The CLI runs in a subprocess while the test's event loop serves them.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

import bench
from bench._exceptions import HarnessError
from bench.define.spec import Suite, Trial, Workload
from bench.run.runner import RunOptions, run_trial
from flags_server import AdminClient, ServerConfig, running

CANNOT_APPLY = "the workload's latency and faults cannot be applied"


async def _flagbench(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=180)
    assert proc.returncode is not None
    return proc.returncode, stderr.decode()


async def _locked_config(_: web.Request) -> web.Response:
    return web.json_response({"error": "configuration is locked"}, status=403)


async def _idle_stats(_: web.Request) -> web.Response:
    return web.json_response({"inflight": 0, "waiting": 0, "requests": 0})


async def _admin_server(aiohttp_server, put_config) -> str:
    """A loopback server whose admin API answers /_stats as an idle flags_server would, and
    ``PUT /_config`` with ``put_config``."""
    app = web.Application()
    app.router.add_put("/_config", put_config)
    app.router.add_get("/_stats", _idle_stats)
    app.router.add_post("/_stats/reset", _idle_stats)
    server = await aiohttp_server(app, host="127.0.0.1")
    return f"http://127.0.0.1:{server.port}"


@pytest_asyncio.fixture
async def locked_server(aiohttp_server) -> str:
    """A server whose admin API answers /_stats but refuses ``PUT /_config`` with 403."""
    return await _admin_server(aiohttp_server, _locked_config)


@pytest.mark.asyncio
async def test_a_refused_config_stops_the_run_before_its_first_trial(locked_server, tmp_path):
    out = tmp_path / "r"
    code, stderr = await _flagbench(
        "run",
        "asyncio",
        "BR",
        "--latency",
        "100ms",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--server",
        f"{locked_server}/flags",
        "--out",
        str(out),
        "--no-report",
    )
    assert code == 2, stderr
    [line] = stderr.strip().splitlines()
    assert line.startswith(f"flagbench: error: {CANNOT_APPLY} (") and "latency=100ms" in line
    assert line.endswith(f"): PUT {locked_server}/_config: HTTP 403: configuration is locked")
    assert not out.exists()


async def _ignored_config(_: web.Request) -> web.Response:
    return web.json_response(ServerConfig().to_dict())  # "accepted", yet still the defaults


@pytest_asyncio.fixture
async def deaf_server(aiohttp_server) -> str:
    """A server whose ``PUT /_config`` answers 200 with a configuration it did not change."""
    return await _admin_server(aiohttp_server, _ignored_config)


@pytest.mark.asyncio
async def test_settings_answered_but_not_applied_stop_the_run(deaf_server, tmp_path):
    out = tmp_path / "r"
    code, stderr = await _flagbench(
        "run",
        "asyncio",
        "BR",
        "--latency",
        "100ms",
        "--error-rate",
        "0.1",
        "--server",
        f"{deaf_server}/flags",
        "--out",
        str(out),
        "--no-report",
    )
    assert code == 2, stderr
    [line] = stderr.strip().splitlines()
    assert line.startswith("flagbench: error: the workload's latency and faults were not applied")
    assert line.endswith(
        f"PUT {deaf_server}/_config answered latency='0', not '100ms'; error_rate=0.0, not 0.1"
    )
    assert not out.exists()


@pytest.mark.asyncio
async def test_a_trial_is_never_run_on_a_server_that_refused_its_settings(locked_server, tmp_path):
    workload = Workload(codes="BR", latency="100ms")
    suite = Suite("s", ("asyncio",), (workload,))
    trial = Trial(0, "asyncio", workload, repeat=0)
    srv = AdminClient.for_site(locked_server)
    with pytest.raises(HarnessError, match=f"{CANNOT_APPLY}.*HTTP 403"):
        await asyncio.to_thread(run_trial, trial, srv, suite, RunOptions(), tmp_path)
    assert list(tmp_path.iterdir()) == []  # no task written, no worker started


def test_an_unreachable_server_stops_the_run(tmp_path, run_cli):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "r"
    proc = run_cli(
        "run", "asyncio", "BR", "--server", f"http://127.0.0.1:{port}", "--out", str(out)
    )
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert CANNOT_APPLY in line and f"127.0.0.1:{port}/_config: connection refused" in line
    assert not out.exists()


@pytest.mark.parametrize("url", ["localhost:8001", "ftp://127.0.0.1/flags"])
def test_a_server_url_that_is_not_one(tmp_path, run_cli, url):
    proc = run_cli(
        "run", "asyncio", "--server", url, "--allow-remote", "--out", str(tmp_path / "r")
    )
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert f"--server: {url!r} is not a flag server URL" in line


@pytest_asyncio.fixture
async def stats_refused() -> AsyncIterator[str]:
    """A real flags_server behind a proxy that forwards everything but ``/_stats``."""
    with running(ServerConfig(seed=3)) as upstream:
        async with aiohttp.ClientSession() as session:

            async def forward(request: web.Request) -> web.Response:
                if request.path.startswith("/_stats"):
                    return web.json_response({"error": "stats are private"}, status=403)
                async with session.request(
                    request.method, upstream.base_url + request.path_qs, data=await request.read()
                ) as resp:
                    return web.Response(
                        status=resp.status,
                        body=await resp.read(),
                        headers={"Content-Type": resp.content_type},
                    )

            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", forward)
            runner = web.AppRunner(app)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            try:
                yield f"http://127.0.0.1:{runner.addresses[0][1]}"
            finally:
                await runner.cleanup()


@pytest.mark.asyncio
async def test_refused_stats_run_the_trials_and_say_their_counts_are_unchecked(
    stats_refused, tmp_path
):
    out = tmp_path / "r"
    code, stderr = await _flagbench(
        "run",
        "threadpool",
        "BR",
        "CN",
        "US",
        "--latency",
        "10ms",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--server",
        f"{stats_refused}/flags",
        "--out",
        str(out),
        "--no-report",
    )
    assert code == 0, stderr
    assert (
        f"flagbench: warning: POST {stats_refused}/_stats/reset: HTTP 403: stats are private; "
        "trials will run, but their counts cannot be checked"
    ) in stderr
    run_dir = next(out.iterdir())
    row = bench.load(run_dir).trials.iloc[0]
    assert row["n_ok"] == 3 and row["latency"] == "10ms"
    assert not row["counts_match"]
    [raw] = (Path(run_dir) / "raw").iterdir()
    assert "HTTP 403: stats are private" in json.loads(raw.read_text())["server_error"]
