"""Saved flags are whole, valid GIFs, named as the book names them."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

import strategies
from flags_server.catalog import countries
from strategies.base import Settings
from strategies.save import flag_filename

from .helpers import STRATEGIES, Variant, check_records, jobs_for, prepare


def _check_gifs(directory: Path, names: set[str], sizes: dict[str, int]) -> None:
    assert {p.name for p in directory.iterdir()} == names  # and no temporary files left
    for path in directory.iterdir():
        assert path.stat().st_size == sizes[path.name]
        with Image.open(path) as img:
            assert img.format == "GIF"
            img.load()  # decodes every byte: a truncated file fails here


@pytest.mark.parametrize("name", STRATEGIES)
def test_with_metadata_files_are_named_after_the_country(
    flag_server, run_variant, name, tmp_path
) -> None:
    prepare(flag_server, latency="10ms")
    jobs = jobs_for(flag_server, 12, 1)
    settings = Settings(concurrency=4, save_dir=str(tmp_path / "out"), metadata=True)
    records = run_variant(Variant(name), jobs, settings)
    assert check_records(records, jobs) == {"ok": 12, "not_found": 1, "error": 0}
    catalog = countries()
    sizes = {
        flag_filename(r.cc, catalog[r.cc].name): r.nbytes
        for r in records
        if r.resource == "flag" and r.outcome == "ok"
    }
    assert len(sizes) == 12
    _check_gifs(tmp_path / "out", set(sizes), sizes)
    stats = flag_server.wait_idle()
    # metadata first; the unknown code's 404 metadata ends its job before any flag request
    assert (stats["by_route"]["metadata"], stats["by_route"]["flag"]) == (13, 12)


@pytest.mark.parametrize("name", ["sequential", "asyncio_executor"])
def test_without_metadata_files_are_named_by_code(flag_server, name, tmp_path) -> None:
    prepare(flag_server, latency="0")
    jobs = jobs_for(flag_server, 10)
    records = strategies.get(name).run(jobs, Settings(concurrency=3, save_dir=str(tmp_path)))
    check_records(records, jobs)
    sizes = {f"{r.cc}.gif": r.nbytes for r in records}
    _check_gifs(tmp_path, set(sizes), sizes)


@pytest.mark.parametrize("name", ["threadpool", "asyncio"])
def test_a_failed_save_ends_the_job_as_an_error(flag_server, name, tmp_path) -> None:
    prepare(flag_server, latency="0")
    jobs = jobs_for(flag_server, 4)
    target = tmp_path / "out"
    target.mkdir()
    (target / f"{jobs[0].cc}.gif").mkdir()  # os.replace cannot put a file over a directory
    records = strategies.get(name).run(jobs, Settings(concurrency=2, save_dir=str(target)))
    assert check_records(records, jobs) == {"ok": 3, "not_found": 0, "error": 1}
    failed = next(r for r in records if r.cc == jobs[0].cc)
    assert (failed.status, failed.error_kind) == (200, "save_error")
    assert not [p for p in target.iterdir() if p.name.startswith(".")]
