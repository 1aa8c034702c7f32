"""AdminClient: the real server's answers, and every way another server can refuse.

The refusals come from tiny aiohttp apps on loopback; the client's blocking calls run in a
thread so the test's event loop can answer them.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest
from aiohttp import web

from flags_server import AdminClient, AdminError, ConfigError, FlagsServerError

# -- the real server ---------------------------------------------------------------------


def test_every_call_against_the_real_server(srv) -> None:
    assert isinstance(srv, AdminClient)
    assert srv.health()["status"] == "ok"
    assert srv.configure(error_rate=0.5, error_codes=(503,))["error_codes"] == [503]
    assert srv.config()["error_rate"] == 0.5
    assert srv.reset_stats() is None
    idle = srv.wait_idle()
    assert idle["inflight"] == 0 and idle["requests"] == 0
    assert srv.stats()["admin_requests"] >= 1


def test_a_second_client_on_the_same_server(srv) -> None:
    other = AdminClient(srv.base_url + "/", timeout=2)
    assert other.base_url == srv.base_url and other.flags_url == srv.flags_url
    assert other.config() == srv.config()


def test_a_refused_value_is_a_config_error_in_the_servers_words(srv) -> None:
    with pytest.raises(ConfigError, match=r"error_rate=1\.5.*0\.\.1"):
        srv.configure(error_rate=1.5)


def test_proxies_from_the_environment_are_ignored(srv, monkeypatch) -> None:
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # the discard port: nothing answers
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert AdminClient(srv.base_url).health()["status"] == "ok"


@pytest.mark.parametrize(
    ("url", "base", "flags"),
    [
        ("http://127.0.0.1:8001", "http://127.0.0.1:8001", "http://127.0.0.1:8001/flags"),
        ("http://127.0.0.1:8001/", "http://127.0.0.1:8001", "http://127.0.0.1:8001/flags"),
        ("http://[::1]:8001/static/flags/", "http://[::1]:8001", "http://[::1]:8001/static/flags"),
    ],
)
def test_for_site_splits_the_admin_root_from_the_flags(url: str, base: str, flags: str) -> None:
    client = AdminClient.for_site(url)
    assert (client.base_url, client.flags_url) == (base, flags)


@pytest.mark.parametrize("url", ["localhost:8001", "ftp://127.0.0.1/flags", ""])
def test_for_site_refuses_what_is_not_a_server_url(url: str) -> None:
    with pytest.raises(AdminError, match="not a flag server URL"):
        AdminClient.for_site(url)


def test_every_error_is_a_flags_server_error() -> None:
    for cls in (AdminError, ConfigError):
        assert issubclass(cls, FlagsServerError)


# -- other servers -----------------------------------------------------------------------

Handler = Callable[[web.Request], Any]


async def _serve(aiohttp_server, routes: dict[tuple[str, str], Handler]) -> AdminClient:
    app = web.Application()
    for (method, path), handler in routes.items():
        app.router.add_route(method, path, handler)
    server = await aiohttp_server(app, host="127.0.0.1")
    return AdminClient(f"http://127.0.0.1:{server.port}", timeout=5)


async def _stats(_: web.Request) -> web.Response:
    return web.json_response({"inflight": 0, "waiting": 0, "requests": 0})


async def _forbidden(_: web.Request) -> web.Response:
    return web.json_response({"error": "configuration is locked"}, status=403)


async def _html(_: web.Request) -> web.Response:
    return web.Response(text="<html><body>a web site</body></html>", content_type="text/html")


async def _list(_: web.Request) -> web.Response:
    return web.json_response([1, 2])


@pytest.mark.asyncio
async def test_403_on_config_is_an_admin_error_naming_call_url_and_answer(aiohttp_server):
    client = await _serve(
        aiohttp_server, {("PUT", "/_config"): _forbidden, ("GET", "/_stats"): _stats}
    )
    assert (await asyncio.to_thread(client.stats))["inflight"] == 0
    with pytest.raises(AdminError) as info:
        await asyncio.to_thread(client.configure, latency="100ms")
    assert str(info.value) == (f"PUT {client.base_url}/_config: HTTP 403: configuration is locked")
    assert info.value.status == 403


@pytest.mark.asyncio
async def test_a_server_without_the_admin_api(aiohttp_server):
    client = await _serve(aiohttp_server, {("GET", "/"): _html})
    for call, method, path in (
        (client.stats, "GET", "/_stats"),
        (client.reset_stats, "POST", "/_stats/reset"),
        (client.health, "GET", "/_health"),
    ):
        with pytest.raises(AdminError, match=rf"^{method} {client.base_url}{path}: HTTP 404: "):
            await asyncio.to_thread(call)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("handler", "shown"), [(_html, "'<html><body>a web site"), (_list, "'[1, 2]'")]
)
async def test_an_answer_that_is_not_a_json_object(aiohttp_server, handler, shown):
    client = await _serve(aiohttp_server, {("GET", "/_config"): handler})
    with pytest.raises(AdminError, match="not a flags_server admin answer") as info:
        await asyncio.to_thread(client.config)
    assert f"GET {client.base_url}/_config" in str(info.value) and shown in str(info.value)


@pytest.mark.asyncio
async def test_stats_without_the_counters_wait_idle_needs(aiohttp_server):
    async def bare(_: web.Request) -> web.Response:
        return web.json_response({"hits": 3})

    client = await _serve(aiohttp_server, {("GET", "/_stats"): bare})
    with pytest.raises(AdminError, match="lacks 'inflight'"):
        await asyncio.to_thread(client.wait_idle)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_nothing_listening_is_an_admin_error() -> None:
    client = AdminClient(f"http://127.0.0.1:{_free_port()}", timeout=2)
    with pytest.raises(
        AdminError, match=r"^GET http://127\.0\.0\.1:\d+/_stats: connection refused"
    ):
        client.stats()


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as listener:  # accepted by the kernel, never read: a hung server
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = AdminClient(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=0.3)
        with pytest.raises(AdminError, match=r"/_health: no answer within 0\.3 s"):
            client.health()
