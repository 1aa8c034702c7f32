"""``flagbench python install``: what cannot be done is one line and exit status 2, with
nothing written; a finished build is reused; ``--python 3.13t`` finds it."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from bench._subprocess import run_captured
from bench.define.pybuild import MARKER, parse_target, pythons_dir
from bench.define.pythons import resolve_python


def _one_line(proc) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("flagbench: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.fixture
def env(tmp_path):
    """An empty build cache of our own: a failure must leave it as it was (absent)."""
    e = dict(os.environ)
    e["FLAGBENCH_PYTHONS_DIR"] = str(tmp_path / "pythons")
    return e


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("foo", "give a CPython version such as 3.13"),
        ("3.12t", "free-threaded builds exist from 3.13 on"),
        ("3.9", "needs Python 3.10 or later"),
        ("3.13tt", "give a CPython version"),
    ],
)
def test_a_bad_version_is_one_line(run_cli, env, tmp_path, spec, says):
    line = _one_line(run_cli("python", "install", spec, env=env))
    assert says in line
    assert not (tmp_path / "pythons").exists()


def test_no_compiler_is_one_line(run_cli, env, tmp_path):
    bin_dir = tmp_path / "bin"  # a PATH with Python on it and nothing else
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(os.path.realpath(sys.executable))
    env["PATH"] = str(bin_dir)
    line = _one_line(run_cli("python", "install", "3.13t", env=env))
    assert "needs a C compiler and make" in line and "cc, make" in line
    assert not (tmp_path / "pythons").exists()


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="apt-get is not on this machine")
@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler: that check comes first")
def test_no_deb_src_source_is_one_line_saying_what_to_add(run_cli, env, tmp_path):
    apt = tmp_path / "apt"  # apt's own APT_CONFIG: sources and lists of our own, all empty
    for d in ("d", "lists/partial", "cache"):
        (apt / d).mkdir(parents=True)
    (apt / "sources.list").write_text("")
    (apt / "apt.conf").write_text(
        f'Dir::Etc::sourcelist "{apt}/sources.list";\nDir::Etc::sourceparts "{apt}/d";\n'
        f'Dir::State::lists "{apt}/lists";\nDir::Cache "{apt}/cache";\n'
    )
    env["APT_CONFIG"] = str(apt / "apt.conf")
    line = _one_line(run_cli("python", "install", "3.13t", env=env))
    assert "apt has no deb-src source" in line and "Types: deb-src" in line
    assert not (tmp_path / "pythons").exists()


def _apt_lists(package: str) -> bool:
    proc = run_captured(["apt-cache", "showsrc", "--only-source", package], 60)
    return "Version:" in proc.stdout


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="apt-get is not on this machine")
@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler: that check comes first")
def test_a_version_without_source_is_one_line(run_cli, env, tmp_path):
    if _apt_lists("python3.14"):
        pytest.skip("apt's sources here list python3.14: its source may be had")
    line = _one_line(run_cli("python", "install", "3.14t", env=env))
    assert "the source of Python 3.14t cannot be had here" in line
    assert not (tmp_path / "pythons").exists()


def test_targets():
    t = parse_target("3.13.5t")
    assert (t.minor, t.patch, t.free_threaded, t.package) == ((3, 13), 5, True, "python3.13")
    assert str(parse_target("3.13")) == "3.13" and not parse_target("3.13").free_threaded


def _cached(spec: str) -> str:
    from bench.define.pybuild import installed

    found = installed(pythons_dir(), parse_target(spec))
    if not found:
        pytest.skip(f"no {spec} built in {pythons_dir()}: flagbench python install {spec}")
    return str(found[-1][1])


def test_a_finished_build_is_reused_and_found(run_cli):
    exe = _cached("3.13t")
    proc = run_cli("python", "install", "3.13t", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "already built, reused" in proc.stdout and proc.stdout.strip().endswith(exe)
    assert (Path(exe).parent.parent / MARKER).exists()
    assert resolve_python("3.13t") in (exe, shutil.which("python3.13t"))
