"""Third-party strategies through real entry points: broken ones are named, never fatal to others.

A temporary folder holds an installed-looking distribution (``brokenplugin-0.1.dist-info``
with its entry points) and its modules; it goes on the PYTHONPATH of ``python -m bench``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .plugins import installed_plugin

ENTRY_POINTS = """\
[flagbench.strategies]
broken = brokenplugin:BrokenStrategy
shapeless = shapeless_plugin:Shapeless
fine = fine_plugin:FineStrategy
sequential = fine_plugin:FineStrategy
"""

MODULES = {
    "brokenplugin.py": "import flagbench_test_no_such_dependency\n",
    "shapeless_plugin.py": 'class Shapeless:\n    name = "shapeless"\n    description = "no run()"\n',
    "fine_plugin.py": (
        "from strategies.threadpool import ThreadPoolStrategy\n\n\n"
        "class FineStrategy(ThreadPoolStrategy):\n"
        '    name = "fine"\n'
        '    description = "a plugin that works"\n'
    ),
}


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    return installed_plugin(
        tmp_path / "site", "brokenplugin", ENTRY_POINTS, MODULES, dict(os.environ)
    )


def test_list_names_and_skips_broken_plugins(plugin_env, run_cli):
    proc = run_cli("list", env=plugin_env)
    assert proc.returncode == 0, proc.stderr
    listed = proc.stdout.split("strategies:\n", 1)[1].split("\ninterpreters", 1)[0].splitlines()
    # each strategy: its name and description; further lines of it are indented under them
    names = [line.split()[0] for line in listed if line.strip() and not line.startswith("   ")]
    assert names == [
        "sequential",
        "threadpool",
        "processpool",
        "asyncio",
        "asyncio_executor",
        "interpreterpool",
        "multiprocess_asyncio",
        "dask",
        "fine",
    ]
    assert "a plugin that works" in proc.stdout
    assert "one flag after another" in proc.stdout  # sequential's own, not the impostor's
    warnings = proc.stderr.strip().splitlines()
    assert len(warnings) == 2, proc.stderr
    broken, shapeless = warnings
    assert broken.startswith(
        "flagbench: warning: strategy 'broken' (brokenplugin:BrokenStrategy, "
        "from brokenplugin 0.1) failed to load: ModuleNotFoundError"
    )
    assert "flagbench_test_no_such_dependency" in broken and broken.endswith("; skipped")
    assert shapeless.startswith(
        "flagbench: warning: strategy 'shapeless' (shapeless_plugin:"
        "Shapeless, from brokenplugin 0.1) lacks name, description or run()"
    )


def test_a_run_naming_a_broken_plugin_is_one_line(plugin_env, run_cli, tmp_path):
    out = tmp_path / "r"
    proc = run_cli("run", "threadpool", "broken", "BR", "--out", str(out), env=plugin_env)
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("flagbench: error: strategy 'broken' (brokenplugin:BrokenStrategy")
    assert "No module named 'flagbench_test_no_such_dependency'" in line
    assert not out.exists()


def test_a_suite_naming_a_shapeless_plugin_is_one_line(plugin_env, run_cli, tmp_path):
    suite = tmp_path / "plugin.toml"
    suite.write_text(
        '[suite]\nname = "plugin"\nstrategies = ["asyncio", "shapeless"]\n'
        '[defaults]\ncodes = "BR"\n'
    )
    out = tmp_path / "r"
    proc = run_cli("suite", str(suite), "--out", str(out), env=plugin_env)
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("flagbench: error: strategy 'shapeless'") and "lacks" in line
    assert not out.exists()


def test_a_working_plugin_runs(plugin_env, run_cli, tmp_path):
    out = tmp_path / "r"
    proc = run_cli(
        "run",
        "fine",
        "BR",
        "CN",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--out",
        str(out),
        "--no-report",
        env=plugin_env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "fine" in proc.stdout
