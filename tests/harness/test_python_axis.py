"""The ``python`` axis for real: a trial under a second interpreter, in the venv the harness
makes for it once (the only venv this test session creates: pip fetches and installs wheels,
which takes a while), reused afterwards without pip; and a tiny ``pythons`` suite end to end.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import resources
from pathlib import Path

import pytest

import bench
from bench.define import dependencies
from bench.define.pythons import found_pythons
from bench.run import venvs

pytestmark = pytest.mark.slow
RUN = (
    "run",
    "asyncio",
    "-n",
    "4",
    "--latency",
    "5ms",
    "--repeats",
    "1",
    "--warmup",
    "0",
    "--no-report",
)


@pytest.fixture(scope="session")
def second_python() -> str:
    """3.12 if this machine has it (and it is not the running one), else another supported
    interpreter found; skipped with the reason when there is none."""
    mine = f"{sys.version_info[0]}.{sys.version_info[1]}"
    found = [
        v
        for v in found_pythons(lambda v: dependencies.supports(".".join(map(str, v))))
        if v != mine and not v.endswith("t")
    ]
    if not found:
        pytest.skip(f"no supported interpreter besides Python {mine} under pyenv or on PATH")
    return "3.12" if "3.12" in found else found[-1]


@pytest.fixture(scope="session")
def venv_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("venvs")


def env_with(root: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, venvs.ENV_VAR: str(root), **extra}


def no_pip_possible(tmp: Path) -> dict[str, str]:
    """pip settings under which any install fails: no index, no config, no local wheels."""
    empty = tmp / "no-wheels"
    empty.mkdir(exist_ok=True)
    return {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(empty)}


@pytest.fixture(scope="session")
def first_run(second_python, venv_root, tmp_path_factory, run_cli):
    """The session's one venv creation, by a real run under the second interpreter."""
    out = tmp_path_factory.mktemp("first")
    proc = run_cli(
        *RUN, "--python", second_python, "--out", str(out), env=env_with(venv_root), timeout=900
    )
    assert proc.returncode == 0, proc.stderr
    return proc, next(out.iterdir())


def test_a_trial_runs_under_the_second_interpreter_in_a_venv_made_for_it(
    first_run, second_python, venv_root
):
    proc, run_dir = first_run
    (venv,) = [p for p in venv_root.iterdir() if not p.name.startswith(".")]
    creating = [ln for ln in proc.stderr.splitlines() if "creating a venv" in ln]
    assert len(creating) == 1 and str(venv) in creating[0], proc.stderr
    run = bench.load(run_dir)
    row = run.trials.iloc[0]
    assert row["status"] == "ok" and row["n_ok"] == 4
    assert (
        row["python"].startswith(second_python + ".") and row["python_requested"] == second_python
    )
    assert row["implementation"] == "CPython" and not row["free_threaded"]
    (entry,) = run.meta["interpreters"]
    assert entry["venv"] == str(venv) and entry["executable"] == str(venv / "bin" / "python")
    assert entry["version"] == row["python"] and entry["gil_enabled"] is True
    assert entry["packages"]["aiohttp"] and not entry["free_threaded"]
    marker = json.loads((venv / venvs.MARKER).read_text())
    assert marker["requirements"] == sorted(marker["requirements"])
    assert {r.split(">")[0] for r in marker["requirements"]} >= {"aiohttp", "requests"}


def test_the_second_run_reuses_the_venv_without_pip(
    first_run, second_python, venv_root, tmp_path, run_cli
):
    before = {p.name: p.stat().st_mtime_ns for p in venv_root.iterdir()}
    (venv,) = [p for p in venv_root.iterdir() if not p.name.startswith(".")]
    stamp = (venv / venvs.MARKER).stat().st_mtime_ns
    proc = run_cli(
        *RUN,
        "--python",
        second_python,
        "--out",
        str(tmp_path / "r"),
        env=env_with(venv_root, **no_pip_possible(tmp_path)),
    )
    assert proc.returncode == 0, proc.stderr  # a pip install would have failed
    assert "creating a venv" not in proc.stderr
    assert {p.name: p.stat().st_mtime_ns for p in venv_root.iterdir()} == before
    assert (venv / venvs.MARKER).stat().st_mtime_ns == stamp


def test_no_network_is_one_line_and_nothing_is_left(second_python, tmp_path, run_cli):
    root = tmp_path / "venvs"
    out = tmp_path / "r"
    proc = run_cli(
        *RUN,
        "--python",
        second_python,
        "--out",
        str(out),
        env=env_with(root, **no_pip_possible(tmp_path)),
        timeout=600,
    )
    assert proc.returncode == 2, proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("flagbench: error:")]
    assert len(errors) == 1 and "pip install failed" in errors[0], proc.stderr
    assert "could not create its venv in " + str(root) in errors[0]
    assert [p for p in root.iterdir() if p.is_dir()] == []  # no half venv, no temporary folder
    assert not out.exists()


def test_an_interpreter_too_old_is_one_line_and_exit_2(tmp_path, run_cli, fake_python):
    exe = fake_python(tmp_path / "py39", "3.9.18")
    out = tmp_path / "r"
    proc = run_cli(*RUN, "--python", exe, "--out", str(out), env=env_with(tmp_path / "venvs"))
    assert proc.returncode == 2
    assert proc.stderr == (
        f"flagbench: error: python = {exe!r} ({exe}) is Python 3.9.18; "
        "flagbench needs Python 3.10 or newer\n"
    )
    assert not out.exists() and not (tmp_path / "venvs").exists()


def tiny_pythons_suite(second_python: str) -> str:
    """The built-in ``pythons`` suite, made tiny: the running interpreter and a second one,
    six flags, one repeat, two strategies."""
    text = (resources.files("bench.define.suites") / "pythons.toml").read_text("utf-8")
    for old, new in (
        ('python = "all"', f'python = ["", "{second_python}"]'),
        ("repeats = 3", "repeats = 1"),
        ("warmup = 1", "warmup = 0"),
        ("n_jobs = 60", "n_jobs = 6"),
        ("concurrency = 20", "concurrency = 3"),
        ('cpu_work = "python:5ms"', 'cpu_work = "python:1ms"'),
        (
            'strategies = ["threadpool", "asyncio", "asyncio_executor", "processpool"]',
            'strategies = ["threadpool", "asyncio"]',
        ),
        (
            'strategies = ["sequential", "threadpool", "processpool", "asyncio", "asyncio_executor"]',
            'strategies = ["sequential", "asyncio"]',
        ),
    ):
        assert old in text, old
        text = text.replace(old, new)
    return text


def test_a_tiny_pythons_suite_end_to_end(first_run, second_python, venv_root, tmp_path, run_cli):
    suite = tmp_path / "pythons.toml"
    suite.write_text(tiny_pythons_suite(second_python))
    out = tmp_path / "r"
    proc = run_cli("suite", str(suite), "--out", str(out), env=env_with(venv_root), timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "creating a venv" not in proc.stderr  # the session's venv, reused
    run_dir = next(out.iterdir())
    run = bench.load(run_dir)
    t = run.trials
    assert len(t) == 2 * (2 + 2) and (t["status"] == "ok").all()
    versions = set(t["python"])
    assert len(versions) == 2 and ".".join(map(str, sys.version_info[:3])) in versions
    assert {e["requested"] for e in run.meta["interpreters"]} == {"", second_python}
    assert (run_dir / "charts" / "interpreters.png").exists()
    report = (run_dir / "report.md").read_text()
    section = report.split("### Efficiency per strategy and interpreter", 1)[1].split("###")[0]
    assert "one repeat gives no interval" in section, section  # it claims no difference
    for version in versions:
        assert f"Python {version}" in section
