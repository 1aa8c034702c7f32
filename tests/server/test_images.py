"""Synthetic images open in Pillow and follow the real set's size spread; the real set serves."""

from __future__ import annotations

import io
import statistics
import zipfile
from pathlib import Path

import pytest
import requests
from PIL import Image

from flags_server import ConfigError, ServerConfig, catalog, running
from flags_server.images import MAX_PAYLOAD, MIN_PAYLOAD, synthetic_gif, synthetic_images

from .conftest import TIMEOUT

FLAGS_ZIP = Path(__file__).resolve().parents[3] / "shared/data/fluentpython-flags/flags.zip"


def test_every_synthetic_image_decodes() -> None:
    images = synthetic_images(catalog.codes())
    assert len(images) == 194
    for cc, body in images.items():
        assert body.startswith(b"GIF89a")
        with Image.open(io.BytesIO(body)) as im:
            im.load()
            assert im.format == "GIF"
            assert im.width >= im.height > 1
            assert len(im.getcolors()) == 3, cc


def test_sizes_follow_the_real_distribution() -> None:
    sizes = sorted(len(b) for b in synthetic_images(catalog.codes()).values())
    # the book's set: 1,193 to 36,332 bytes, mean 12,115, median 9,918, quartiles 5.5 K / 16.6 K
    assert 1_100 <= sizes[0] <= 2_000
    assert 33_000 <= sizes[-1] <= 36_400
    assert 11_500 <= statistics.mean(sizes) <= 12_700
    assert 9_000 <= statistics.median(sizes) <= 11_000
    q1, _, q3 = statistics.quantiles(sizes, n=4)
    assert 4_500 <= q1 <= 6_500
    assert 14_500 <= q3 <= 18_000
    assert len(set(sizes)) > 150  # countries differ


def test_images_are_deterministic() -> None:
    assert synthetic_images(["BR", "CN"]) == synthetic_images(["BR", "CN"])


@pytest.mark.parametrize("size", [MIN_PAYLOAD, 129, 130, 131, 257, 1_000, 12_288, 100_000])
def test_payload_size_is_exact(size: int) -> None:
    body = synthetic_gif("BR", size)
    assert len(body) == size
    with Image.open(io.BytesIO(body)) as im:
        im.load()


@pytest.mark.parametrize("size", [MIN_PAYLOAD - 1, MAX_PAYLOAD + 1])
def test_payload_size_is_bounded(size: int) -> None:
    with pytest.raises(ConfigError, match="payload"):
        ServerConfig(payload_size=size)


def test_served_images_are_the_generated_ones(srv, session: requests.Session) -> None:
    expected = synthetic_images(catalog.codes())
    for cc in ("br", "ng"):
        r = session.get(f"{srv.flags_url}/{cc}/{cc}.gif", timeout=TIMEOUT)
        assert r.content == expected[cc.upper()]


@pytest.mark.skipif(not FLAGS_ZIP.exists(), reason="the book's flags.zip is not on this machine")
def test_flags_zip_serves_the_real_set() -> None:
    with zipfile.ZipFile(FLAGS_ZIP) as zf:
        real = {cc: zf.read(f"flags/{cc}/{cc}.gif") for cc in map(str.lower, catalog.codes())}
        real_gb_meta = zf.read("flags/gb/metadata.json")
    with running(ServerConfig(flags_zip=str(FLAGS_ZIP))) as srv, requests.Session() as s:
        assert srv.health()["content"].startswith("zip:")
        for cc, body in real.items():
            assert s.get(f"{srv.flags_url}/{cc}/{cc}.gif", timeout=TIMEOUT).content == body, cc
        assert s.get(f"{srv.flags_url}/gb/metadata.json", timeout=TIMEOUT).content == real_gb_meta
        assert s.get(f"{srv.flags_url}/zz/zz.gif", timeout=TIMEOUT).status_code == 404
    assert sum(map(len, real.values())) > 2_000_000


def test_flags_zip_that_is_not_a_zip_is_a_config_error(tmp_path: Path) -> None:
    bogus = tmp_path / "flags.zip"
    bogus.write_text("not a zip")
    with (
        pytest.raises(ConfigError, match="cannot be read as a zip"),
        running(ServerConfig(flags_zip=str(bogus))),
    ):
        pass
