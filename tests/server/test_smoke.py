"""The first contract other parts rely on: start, fetch, count, stop."""

from __future__ import annotations

import requests

from flags_server import ServerConfig, running

from .conftest import TIMEOUT


def test_running_serves_flags_and_counts(srv, session: requests.Session) -> None:
    r = session.get(f"{srv.flags_url}/br/br.gif", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.content.startswith(b"GIF89a")
    m = session.get(f"{srv.flags_url}/br/metadata.json", timeout=TIMEOUT)
    assert m.json() == {"tld_cc": ".br", "iso_cc": "BR", "country": "Brazil", "gec_cc": "BR"}
    stats = srv.stats()
    assert stats["requests"] == 2
    assert stats["by_status"] == {"200": 2}
    assert stats["connections"] == 1


def test_running_reaps_the_process_on_error() -> None:
    process = None
    try:
        with running(ServerConfig()) as srv:
            process = srv.process
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert process is not None and process.returncode is not None
