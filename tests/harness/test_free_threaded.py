"""What ran, said by the interpreter itself: the trials' ``python`` ("3.13.5t") and
``interpreter`` ("3.13", "3.13t", "3.13t (GIL re-enabled)") columns, summary.csv's, the
report's warning when the GIL came back on, and the module that turned it on.

The free-threaded tests need a free-threaded CPython (``flagbench python install 3.13t``);
without one they are skipped, saying so."""

from __future__ import annotations

import os
import platform
import shutil
import sys
import sysconfig
from pathlib import Path

import pytest

import bench
from bench._subprocess import run_captured
from bench.define.pythons import interpreter_name, resolve_python
from bench.run.interpreters import probe
from bench.run.process import worker_env

TINY = ["sequential", "-m", "3", "--repeats", "1", "--latency", "0"]


def _free_threaded() -> str:
    try:
        exe = resolve_python("3.13t")
    except ValueError as exc:
        pytest.skip(f"no free-threaded Python here ({exc})")
    return exe


def _run(run_cli, tmp_path: Path, *extra: str, env=None) -> bench.Run:
    out = tmp_path / "results"
    proc = run_cli("run", *TINY, *extra, "--out", str(out), env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr
    (run_dir,) = out.iterdir()
    return bench.load(run_dir)


def test_names_come_from_the_running_interpreter(run_cli, tmp_path) -> None:
    run = _run(run_cli, tmp_path, "--no-report")
    threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    t = run.trials
    assert list(t["python"]) == [platform.python_version() + ("t" if threaded else "")]
    minor = ".".join(platform.python_version_tuple()[:2])
    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    assert list(t["interpreter"]) == [interpreter_name(minor, threaded, gil)]
    assert t["interpreter"].iloc[0].startswith(minor)
    summary = run.summary
    assert list(summary["interpreter"]) == list(t["interpreter"])
    assert list(summary["gil_enabled"]) == [gil]


def test_names_of_a_free_threaded_interpreter(run_cli, tmp_path) -> None:
    exe = _free_threaded()
    own = probe(exe, "test")
    run = _run(run_cli, tmp_path, "--python", "3.13t", "--no-report")
    t = run.trials
    minor = ".".join(own.version.split(".")[:2])
    assert list(t["python"]) == [own.version + "t"]  # "3.13.5t", never "3.13.5"
    assert list(t["interpreter"]) == [f"{minor}t"]
    assert list(t["gil_enabled"]) == [False] and list(t["free_threaded"]) == [True]
    summary = run.summary
    assert list(summary["interpreter"]) == [f"{minor}t"]
    assert list(summary["gil_enabled"]) == [False]


def test_a_free_threaded_trial_with_the_gil_on_is_named_and_flagged(run_cli, tmp_path) -> None:
    _free_threaded()
    env = dict(os.environ, PYTHON_GIL="1")  # the worker inherits it: the GIL stays on
    run = _run(run_cli, tmp_path, "--python", "3.13t", env=env)
    t = run.trials
    assert t["interpreter"].iloc[0].endswith("t (GIL re-enabled)")
    assert list(t["gil_enabled"]) == [True] and list(t["gil_enabled_by"]) == [""]
    report = (run.path / "report.md").read_text()
    assert "ran with the GIL on" in report and "do not show free threading" in report
    assert "(GIL re-enabled)" in report


_TINY_EXTENSION = r"""
#include <Python.h>
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "gilful", NULL, -1, NULL};
PyMODINIT_FUNC PyInit_gilful(void) { return PyModule_Create(&def); }
"""


def test_the_module_that_re_enabled_the_gil_is_named(tmp_path) -> None:
    """An extension that does not declare it can run without the GIL turns it on at import:
    the worker's watch (bench.gilwatch) hears CPython's warning and keeps the module's name."""
    exe = _free_threaded()
    if shutil.which("cc") is None:
        pytest.skip("no C compiler to build the test's extension module")
    facts = run_captured(
        [
            exe,
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['include']); "
            "print(sysconfig.get_config_var('EXT_SUFFIX'))",
        ],
        60,
    ).stdout.split()
    (tmp_path / "gilful.c").write_text(_TINY_EXTENSION)
    built = run_captured(
        [
            "cc",
            "-shared",
            "-fPIC",
            f"-I{facts[0]}",
            str(tmp_path / "gilful.c"),
            "-o",
            str(tmp_path / f"gilful{facts[1]}"),
        ],
        120,
    )
    assert built.returncode == 0, built.stderr
    env = worker_env()
    env["PYTHONPATH"] += os.pathsep + str(tmp_path)
    proc = run_captured(
        [
            exe,
            "-c",
            "import bench.run.gilwatch as w, sys; before = sys._is_gil_enabled(); import gilful; "
            "print(before, sys._is_gil_enabled(), w.WATCH.modules)",
        ],
        60,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().split(None, 2) == ["False", "True", "['gilful']"]
    assert "enabled to load module 'gilful'" in proc.stderr  # passed on, still printed
