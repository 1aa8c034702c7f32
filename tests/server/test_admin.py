"""The admin API: config changes, validation, and loopback-only access."""

from __future__ import annotations

import asyncio
from unittest import mock

import pytest
import requests
from aiohttp.test_utils import make_mocked_request

from flags_server import ConfigError, ServerConfig
from flags_server.access import is_loopback_peer
from flags_server.app import FlagSite

from .conftest import TIMEOUT


def test_get_config_round_trips(srv) -> None:
    config = srv.config()
    assert ServerConfig.from_dict(config).to_dict() == config
    assert config["seed"] == 7
    assert config["error_codes"] == [418]


def test_put_config_changes_the_running_server(srv, session: requests.Session) -> None:
    new = srv.configure(error_rate=1.0, error_codes=[503])
    assert new["error_rate"] == 1.0
    assert srv.config()["error_codes"] == [503]
    assert session.get(f"{srv.flags_url}/br/br.gif", timeout=TIMEOUT).status_code == 503


def test_payload_size_change_rebuilds_the_images(srv, session: requests.Session) -> None:
    srv.configure(payload_size=5000)
    for cc in ("br", "cn"):
        assert len(session.get(f"{srv.flags_url}/{cc}/{cc}.gif", timeout=TIMEOUT).content) == 5000


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{not json", ["not valid JSON"]),
        (b"[1, 2]", ["JSON object"]),
        (b'{"latency": "fast"}', ["latency", "'fast'", "uniform:"]),
        (b'{"latency": "90s"}', ["latency", "maximum of 60"]),
        (b'{"error_rate": 1.5}', ["error_rate=1.5", "0..1"]),
        (b'{"error_rate": 0.6, "reset_rate": 0.6}', ["add up to 1.2", "at most 1"]),
        (b'{"error_codes": [200]}', ["error_codes", "400..599"]),
        (b'{"max_inflight": 0}', ["max_inflight=0"]),
        (b'{"overflow": "drop"}', ["overflow='drop'", "queue, reject"]),
        (b'{"payload_size": 99999999}', ["payload_size"]),
        (b'{"colour": "red"}', ["unknown", "'colour'"]),
        (b'{"port": 1234}', ["port", "cannot change while the server runs"]),
        (b'{"seed": true}', ["seed=True", "integer"]),
    ],
)
def test_bad_payloads_get_400_with_a_clear_message(srv, session, body, words) -> None:
    before = srv.config()
    r = session.put(srv.base_url + "/_config", data=body, timeout=TIMEOUT)
    assert r.status_code == 400
    message = r.json()["error"]
    for word in words:
        assert word in message
    assert srv.config() == before


def test_configure_raises_config_error(srv) -> None:
    with pytest.raises(ConfigError, match="metadata_latency"):
        srv.configure(metadata_latency="normal:mean=1s")


def test_admin_method_and_route_errors(srv, session: requests.Session) -> None:
    assert session.post(srv.base_url + "/_stats", timeout=TIMEOUT).status_code == 405
    assert session.get(srv.base_url + "/_stats/reset", timeout=TIMEOUT).status_code == 405
    assert session.delete(srv.base_url + "/_config", timeout=TIMEOUT).status_code == 405
    missing = session.get(srv.base_url + "/_nothing", timeout=TIMEOUT)
    assert missing.status_code == 404
    assert "/_stats" in missing.json()["error"]


def test_admin_requests_are_not_site_requests(srv) -> None:
    for _ in range(3):
        srv.health()
    stats = srv.stats()
    assert stats["requests"] == 0
    assert stats["admin_requests"] == 4


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.8.9.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_peers_are_admitted(peer: str) -> None:
    assert is_loopback_peer(peer)


@pytest.mark.parametrize(
    "peer",
    [
        "10.0.0.5",
        "192.168.1.2",
        "8.8.8.8",
        "::ffff:10.0.0.1",
        "fe80::1",
        "",
        None,
        "localhost",
        "not-an-ip",
    ],
)
def test_other_peers_are_refused(peer: str | None) -> None:
    assert not is_loopback_peer(peer)


def test_the_site_refuses_admin_to_a_remote_peer() -> None:
    """Through the real handler: a request whose peer is not loopback gets 403."""

    async def call(peer: tuple[str, int]) -> int:
        site = FlagSite(ServerConfig(payload_size=200))
        transport = mock.Mock()
        transport.get_extra_info.side_effect = lambda name, default=None: (
            peer if name == "peername" else default
        )
        request = make_mocked_request("GET", "/_stats", transport=transport)
        response = await site.handle(request)
        return response.status

    assert asyncio.run(call(("203.0.113.9", 5555))) == 403
    assert asyncio.run(call(("127.0.0.1", 5555))) == 200
