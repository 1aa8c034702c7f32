"""Which interpreter a workload's ``python`` names, what ``"all"`` finds, and what the harness
asks of an interpreter (supported version, the worker extra) before it runs anything."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from bench._exceptions import SpecError
from bench._subprocess import run_captured
from bench.define import dependencies
from bench.define.pythons import expand_all, found_pythons, resolve_python
from bench.define.spec import Suite, load_suite
from bench.define.workload import Workload
from bench.run.checks import prepare_pythons
from bench.run.interpreters import probe


def _fake(root, version):
    exe = root / "versions" / version / "bin" / "python"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return str(exe)


@pytest.fixture
def machine(tmp_path, monkeypatch):
    """A pyenv tree and a PATH of our own: what the tests see is what they made."""
    root, bin_dir = tmp_path / "pyenv", tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PYENV_ROOT", str(root))
    monkeypatch.setenv("FLAGBENCH_PYTHONS_DIR", str(tmp_path / "builds"))
    monkeypatch.setenv("PATH", str(bin_dir))
    return root, bin_dir


def test_newest_patch_release_and_no_prefix_confusion(machine):
    root, _ = machine
    _fake(root, "3.12.9")
    newest = _fake(root, "3.12.10")
    old = _fake(root, "3.1.5")
    _fake(root, "3.10.13")
    assert resolve_python("3.12") == newest
    assert resolve_python("3.1") == old  # not 3.10
    assert resolve_python("3.12.9").endswith("3.12.9/bin/python")


def test_a_free_threaded_build_is_asked_for_by_name(machine):
    root, _ = machine
    regular = _fake(root, "3.13.0")
    threaded = _fake(root, "3.13.1t")
    assert resolve_python("3.13") == regular  # never the "t" build, though its patch is newer
    assert resolve_python("3.13t") == threaded
    with pytest.raises(ValueError, match=r"no python3\.14t"):
        resolve_python("3.14t")


def test_current_interpreter_and_paths(tmp_path):
    assert resolve_python("") == sys.executable
    assert resolve_python(sys.executable) == sys.executable
    with pytest.raises(ValueError, match="no executable"):
        resolve_python(str(tmp_path / "python"))
    with pytest.raises(ValueError, match="give a version"):
        resolve_python("latest")


def test_all_is_every_supported_interpreter_found_under_pyenv_and_on_path(machine):
    root, bin_dir = machine
    for version in ("3.9.18", "3.10.13", "3.12.1", "3.12.0", "3.13.0t", "3.12-dev", "pypy3.10"):
        _fake(root, version)
    for name in ("python3.11", "python3.8", "python3", "python3.12-config"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    found = found_pythons(lambda v: dependencies.supports(".".join(map(str, v))))
    assert found == ["3.10", "3.11", "3.12", "3.13t"]
    table = expand_all("x.toml [defaults]", {"python": "all", "n_jobs": 5})
    assert table == {"python": found, "n_jobs": 5}
    # "all" beside named ones: each interpreter once, in the order given
    assert expand_all("w", {"python": ["3.13t", "all"]})["python"] == [
        "3.13t",
        "3.10",
        "3.11",
        "3.12",
    ]
    assert expand_all("w", {"python": "3.12"}) == {"python": "3.12"}


def test_all_with_no_interpreter_found_is_one_line(machine):
    root, _ = machine
    _fake(root, "3.9.18")  # too old: not counted
    with pytest.raises(SpecError) as err:
        expand_all("my.toml [[workloads]] #1", {"python": "all"})
    message = str(err.value)
    assert message.startswith("my.toml [[workloads]] #1: python = 'all': no Python 3.10 or newer")
    assert "\n" not in message


def test_the_pythons_suite_expands_as_documented(machine):
    root, _ = machine
    for version in ("3.10.13", "3.11.7", "3.12.1"):
        _fake(root, version)
    suite = load_suite("pythons")
    pythons = ["3.10", "3.11", "3.12"]
    assert [w.python for w in suite.workloads] == pythons * 2
    quick, gil = suite.workloads[0], suite.workloads[3]
    assert quick.cpu_work == "" and quick.save and quick.error_rate == 0.03
    assert gil.cpu_work == "python:5ms" and gil.n_jobs == quick.n_jobs == 60
    assert suite.strategy_sets[3] == ("threadpool", "asyncio", "asyncio_executor", "processpool")
    per_round = 3 * len(suite.strategies) + 3 * 4
    assert len(suite.trials()) == per_round * (suite.repeats + suite.warmup)


def test_the_worker_extra_is_read_from_the_metadata_for_the_target_interpreter():
    env = probe(sys.executable, "here").markers
    mine = dependencies.worker_requirements(env)
    names = {r.split(">")[0].split("=")[0] for r in mine}
    assert {"aiohttp", "requests", "tqdm"} <= names
    assert not names & {
        "pandas",
        "pyarrow",
        "matplotlib",
        "pytest",
    }  # the harness's, not the worker's
    # markers are evaluated for the target interpreter, not for the one running the harness
    older = dependencies.worker_requirements({**env, "python_version": "3.10"})
    newer = dependencies.worker_requirements({**env, "python_version": "3.12"})
    assert any(r.startswith("tomli") for r in older)
    assert not any(r.startswith("tomli") for r in newer)
    assert dependencies.needed_python() == "3.10 or newer"


def test_an_interpreter_too_old_is_refused_before_anything_runs(tmp_path, fake_python):
    exe = fake_python(tmp_path / "py39", "3.9.18")
    suite = Suite("s", ("asyncio",), (Workload(python=exe),))
    with pytest.raises(SpecError) as err:
        prepare_pythons(suite, lambda message: None, tmp_path / "venvs")
    assert str(err.value) == (
        f"python = {exe!r} ({exe}) is Python 3.9.18; flagbench needs Python 3.10 or newer"
    )
    assert not (tmp_path / "venvs").exists()  # nothing made for it


def test_a_real_old_interpreter_answers_the_probe(machine):
    real = Path.home() / ".pyenv" / "versions"
    old = sorted(real.glob("2.7*/bin/python")) + sorted(real.glob("3.[6-9]*/bin/python"))
    if not old:
        pytest.skip(f"no Python older than 3.10 under {real}")
    facts = probe(str(old[0]), "old")
    assert not dependencies.supports(facts.version)


def test_the_running_interpreter_needs_no_venv(tmp_path):
    suite = Suite("s", ("asyncio",), (Workload(), Workload(python=sys.executable)))
    prepared = prepare_pythons(suite, lambda message: None, tmp_path / "venvs")
    assert {p.executable for p in prepared.values()} == {sys.executable}
    assert all(p.venv is None for p in prepared.values())
    assert not (tmp_path / "venvs").exists()
    entry = prepared[sys.executable].meta()
    assert entry["version"] == ".".join(map(str, sys.version_info[:3]))
    assert entry["packages"]["aiohttp"] and entry["gil_enabled"] in (True, False)


def test_a_helper_that_hangs_is_killed_with_its_children(tmp_path):
    pid_file = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        run_captured(["sh", "-c", f"sleep 60 & echo $! > {pid_file}; wait"], timeout=0.5)
    assert (time.monotonic() - started) / 60 < 1 / 6  # the timeout ended it, not the sleep
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{child}/stat").read_text().split(")")[-1].split()[0]
        except OSError:
            break  # gone
        if state == "Z":
            break  # killed, waiting for init to reap it
        time.sleep(0.05)
    else:
        pytest.fail("the helper's child outlived it")


def test_a_virtual_environment_is_used_as_it_is_and_must_import_the_worker(tmp_path):
    base = getattr(sys, "_base_executable", sys.executable)
    bare = tmp_path / "bare"
    run_captured([base, "-m", "venv", "--without-pip", str(bare)], timeout=120)
    exe = str(bare / "bin" / "python")
    suite = Suite("s", ("asyncio",), (Workload(python=exe),))
    with pytest.raises(SpecError) as err:
        prepare_pythons(suite, lambda message: None, tmp_path / "venvs")
    message = str(err.value)
    assert message.startswith(
        f"python = {exe!r} ({exe}) is a virtual environment, which "
        "flagbench uses as it is, and cannot run the worker: "
    )
    assert f"{exe} -m pip install 'aiohttp>=" in message and "\n" not in message
    assert not (tmp_path / "venvs").exists()


def test_flagbench_list_shows_what_all_would_run(run_cli, tmp_path):
    proc = run_cli("list", env={**os.environ, "FLAGBENCH_VENV_DIR": str(tmp_path / "v")})
    assert proc.returncode == 0, proc.stderr
    assert "\n  pythons " in proc.stdout
    head, found = proc.stdout.split("interpreters (python = 'all'; ", 1)[1].splitlines()[:2]
    assert head == f"each gets a venv in {tmp_path / 'v'}):"
    expected = found_pythons(lambda v: dependencies.supports(".".join(map(str, v))))
    assert found.strip() == (", ".join(expected) or found.strip())
