"""The venv cache: where it lives, what a venv is keyed by, made once, never trusted half-made.

The building itself (venv + pip) is replaced here by a stand-in that lays out a venv's
``bin/python``; the real thing runs in ``test_python_axis.py``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bench._exceptions import VenvError
from bench.run import venvs
from bench.run.interpreters import Interpreter

REQS = ["aiohttp>=3.9", "requests>=2.31"]
BASE = Interpreter(
    executable="/opt/py/bin/python",
    real_executable="/opt/py/bin/python3.12",
    version="3.12.1",
    implementation="CPython",
    free_threaded=False,
    gil_enabled=True,
    is_venv=False,
    prefix="/opt/py",
    default_start_method="fork",
    markers={},
)


@pytest.fixture
def builds(monkeypatch):
    """Each build the cache asks for, made instantly; ``fail`` makes the next one raise."""
    made: list[Path] = []
    fail: list[BaseException] = []

    def build(base, tmp, requirements, where, final):
        python = tmp / "bin" / "python"
        python.parent.mkdir()
        python.write_text("#!/bin/sh\n")
        python.chmod(0o755)
        made.append(tmp)
        if fail:
            raise fail.pop()
        return {"aiohttp": "3.9.5"}

    monkeypatch.setattr(venvs, "_build", build)
    return made, fail


def ensure(root: Path, base: Interpreter = BASE, reqs=REQS):
    notes: list[str] = []
    venv = venvs.ensure_venv(base, list(reqs), root, notes.append, "python = '3.12'")
    return venv, notes


def hidden(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".") and p.is_dir())


def test_made_once_then_reused(tmp_path, builds):
    made, _ = builds
    first, notes = ensure(tmp_path)
    assert first.created and len(made) == 1
    assert first.path.parent == tmp_path and first.path.name.startswith("cpython-3.12.1-")
    assert first.python == str(first.path / "bin" / "python")
    assert any("creating a venv for Python 3.12.1" in n and str(first.path) in n for n in notes)
    marker = first.path / venvs.MARKER
    stamp = marker.stat().st_mtime_ns
    again, notes = ensure(tmp_path)
    assert not again.created and again.path == first.path and notes == []
    assert len(made) == 1 and marker.stat().st_mtime_ns == stamp
    assert hidden(tmp_path) == []  # no temporary folder left behind


def test_the_key_is_the_interpreters_real_path_its_version_and_the_requirements():
    name = venvs.venv_name(BASE, REQS)
    assert name == venvs.venv_name(dataclasses.replace(BASE, executable="/elsewhere"), REQS)
    changed = [
        venvs.venv_name(dataclasses.replace(BASE, real_executable="/usr/bin/python3.12"), REQS),
        venvs.venv_name(dataclasses.replace(BASE, version="3.12.2"), REQS),
        venvs.venv_name(dataclasses.replace(BASE, free_threaded=True), REQS),
        venvs.venv_name(BASE, [*REQS, "tqdm>=4.60"]),
        venvs.venv_name(BASE, ["aiohttp>=3.10", "requests>=2.31"]),
    ]
    assert len({name, *changed}) == len(changed) + 1
    assert venvs.venv_name(dataclasses.replace(BASE, free_threaded=True), REQS).startswith(
        "cpython-3.12.1t-"
    )


def test_a_half_made_venv_is_not_trusted(tmp_path, builds):
    made, _ = builds
    final = tmp_path / venvs.venv_name(BASE, REQS)
    (final / "bin").mkdir(parents=True)  # what a crash between venv and pip would leave
    (final / "bin" / "python").write_text("#!/bin/sh\n")
    (final / "bin" / "python").chmod(0o755)
    venv, notes = ensure(tmp_path)
    assert venv.created and len(made) == 1
    assert any("is not a finished venv" in n for n in notes)
    assert (final / venvs.MARKER).exists() and hidden(tmp_path) == []


def test_a_marker_for_another_key_is_not_trusted(tmp_path, builds):
    made, _ = builds
    venv, _ = ensure(tmp_path)
    (venv.path / venvs.MARKER).write_text('{"name": "cpython-3.12.1-000000000000"}')
    again, _ = ensure(tmp_path)
    assert again.created and len(made) == 2


@pytest.mark.parametrize("stop", [VenvError("pip install failed"), KeyboardInterrupt()])
def test_a_failed_or_interrupted_creation_leaves_nothing_to_trust(tmp_path, builds, stop):
    made, fail = builds
    fail.append(stop)
    with pytest.raises(type(stop)):
        ensure(tmp_path)
    assert not (tmp_path / venvs.venv_name(BASE, REQS)).exists()
    assert hidden(tmp_path) == [] and not made[0].exists()
    venv, _ = ensure(tmp_path)  # the next run starts afresh
    assert venv.created and (venv.path / venvs.MARKER).exists()


def test_leftovers_of_a_killed_creation_are_swept(tmp_path, builds):
    name = venvs.venv_name(BASE, REQS)
    leftover = tmp_path / f".{name}.tmp-abc123"
    (leftover / "lib").mkdir(parents=True)  # a process killed with SIGKILL mid-pip
    other = tmp_path / ".cpython-3.13.0-111111111111.tmp-xyz"
    other.mkdir()  # another interpreter's creation, maybe live: not ours to touch
    ensure(tmp_path)
    assert not leftover.exists() and other.exists()


def test_the_cache_folder_setting(monkeypatch, tmp_path):
    monkeypatch.delenv(venvs.ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert venvs.cache_dir() == tmp_path / "xdg" / "flagbench" / "venvs"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # the XDG spec says: ignore it
    assert venvs.cache_dir() == Path.home() / ".cache" / "flagbench" / "venvs"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert venvs.cache_dir() == Path.home() / ".cache" / "flagbench" / "venvs"
    monkeypatch.setenv(venvs.ENV_VAR, str(tmp_path / "mine"))
    assert venvs.cache_dir() == tmp_path / "mine"


def test_a_failing_step_is_pips_first_error_in_one_line():
    script = (
        "echo 'Looking in indexes: x'; echo 'ERROR: Could not find a version that "
        "satisfies the requirement aiohttp>=3.9 (from versions: none)' >&2; "
        "echo 'ERROR: No matching distribution found for aiohttp>=3.9' >&2; exit 1"
    )
    with pytest.raises(VenvError) as err:
        venvs._step(["sh", "-c", script], 30, "python = '3.12': could not create its venv")
    assert str(err.value) == (
        "python = '3.12': could not create its venv: ERROR: Could not "
        "find a version that satisfies the requirement aiohttp>=3.9 "
        "(from versions: none)"
    )
