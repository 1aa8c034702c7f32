"""Every route of the site, answered by a real server over loopback."""

from __future__ import annotations

import io
import json

import requests
from PIL import Image

from flags_server import catalog

from .conftest import TIMEOUT


def test_flag_image_is_a_gif_in_lower_and_upper_case(srv, session: requests.Session) -> None:
    low = session.get(f"{srv.flags_url}/br/br.gif", timeout=TIMEOUT)
    up = session.get(f"{srv.flags_url}/BR/BR.gif", timeout=TIMEOUT)
    assert low.status_code == up.status_code == 200
    assert low.headers["Content-Type"] == "image/gif"
    assert low.content == up.content
    assert int(low.headers["Content-Length"]) == len(low.content)
    assert Image.open(io.BytesIO(low.content)).format == "GIF"


def test_metadata_has_the_books_layout(srv, session: requests.Session) -> None:
    r = session.get(f"{srv.flags_url}/gb/metadata.json", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {
        "tld_cc": ".uk",
        "iso_cc": "GB",
        "country": "United Kingdom",
        "gec_cc": "UK",
    }
    assert list(json.loads(r.content)) == ["tld_cc", "iso_cc", "country", "gec_cc"]


def test_all_194_codes_are_served(srv, session: requests.Session) -> None:
    codes = catalog.codes()
    assert len(codes) == 194
    for cc in codes:
        low = cc.lower()
        r = session.get(f"{srv.flags_url}/{low}/{low}.gif", timeout=TIMEOUT)
        assert r.status_code == 200, cc
    assert srv.stats()["by_status"] == {"200": 194}


def test_unknown_two_letter_code_is_404(srv, session: requests.Session) -> None:
    for path in ("zz/zz.gif", "zz/metadata.json", "AA/AA.gif"):
        r = session.get(f"{srv.flags_url}/{path}", timeout=TIMEOUT)
        assert r.status_code == 404, path
    stats = srv.stats()
    assert stats["by_status"] == {"404": 3}
    assert stats["by_route"] == {"flag": 2, "metadata": 1}


def test_paths_that_are_not_two_letter_codes_are_404(srv, session: requests.Session) -> None:
    bad = [
        "bra/bra.gif",
        "b/b.gif",
        "br/ar.gif",
        "br/BR.gif",
        "br/br.png",
        "br",
        "br/br.gif/x",
        "1a/1a.gif",
        "%2e%2e/%2e%2e.gif",
        "../../etc/passwd",
        "br/",
    ]
    for path in bad:
        r = session.get(f"{srv.flags_url}/{path}", timeout=TIMEOUT)
        assert r.status_code == 404, path
    assert srv.stats()["by_route"] == {"other": len(bad)}


def test_index_links_the_flags(srv, session: requests.Session) -> None:
    for url in (srv.base_url + "/", srv.flags_url, srv.flags_url + "/"):
        r = session.get(url, timeout=TIMEOUT)
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/html")
    assert 'href="/flags/br/br.gif"' in r.text


def test_head_and_other_methods(srv, session: requests.Session) -> None:
    head = session.head(f"{srv.flags_url}/br/br.gif", timeout=TIMEOUT)
    assert head.status_code == 200
    assert head.content == b""
    post = session.post(f"{srv.flags_url}/br/br.gif", timeout=TIMEOUT)
    assert post.status_code == 405
    assert post.headers["Allow"] == "GET, HEAD"


def test_prefix_is_configurable(srv, session: requests.Session) -> None:
    srv.configure(prefix="/static/flags")
    assert session.get(f"{srv.base_url}/static/flags/br/br.gif", timeout=TIMEOUT).status_code == 200
    assert session.get(f"{srv.base_url}/flags/br/br.gif", timeout=TIMEOUT).status_code == 404
    srv.configure(prefix="")
    assert session.get(f"{srv.base_url}/br/br.gif", timeout=TIMEOUT).status_code == 200


def test_health_reports_the_loop(srv) -> None:
    health = srv.health()
    assert health["status"] == "ok"
    assert health["pid"] == srv.pid
    assert health["port"] == srv.port
    assert health["loop"] in ("uvloop", "asyncio")
    assert health["flags"] == 194
