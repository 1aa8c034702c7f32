"""The CLI's texts: help without glitches, examples that parse, docs that quote real commands,
did-you-mean suggestions and the dry run."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from bench.cli import EXAMPLES, build_parser

ROOT = Path(__file__).resolve().parents[2]
DOCS = [
    ROOT / "README.md",
    ROOT / "docs" / "harness.md",
    ROOT / "docs" / "architecture.md",
    ROOT / "docs" / "report.md",
    ROOT / "results" / "README.md",
]


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_has_a_description_and_examples_and_clean_help():
    commands = _subparsers()
    assert set(commands) == set(EXAMPLES)
    texts = [build_parser().format_help()]
    for name, sub in commands.items():
        assert sub.description and sub.epilog and sub.epilog.startswith("examples:"), name
        texts.append(sub.format_help())
    for text in texts:
        assert "%%" not in text and "``" not in text and "a error" not in text
    assert build_parser().description.startswith("flagbench: run suites")


def _quoted_commands(text: str) -> list[str]:
    """``flagbench ...`` lines of the fenced code blocks, comments and continuations dropped."""
    out = []
    for block in re.findall(r"```(?:bash|console|sh)?\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = line.split(" #")[0].strip()
            for part in line.split("&&"):
                part = part.strip()
                if part.startswith((".venv/bin/flagbench ", "flagbench ")):
                    out.append(part.split("flagbench ", 1)[1])
    return out


def test_the_docs_and_examples_quote_command_lines_that_parse():
    quoted = [(str(doc.name), cmd) for doc in DOCS for cmd in _quoted_commands(doc.read_text())]
    for epilog in EXAMPLES.values():
        quoted += [("--help", cmd) for cmd in _quoted_commands(f"```\n{epilog}\n```")]
    assert len(quoted) > 25
    parser = build_parser()
    for where, cmd in quoted:
        try:
            parser.parse_args(shlex.split(cmd))
        except SystemExit as exc:  # pragma: no cover - the message says which
            pytest.fail(f"{where}: flagbench {cmd!r} does not parse ({exc})")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["run", "asyncoi"], "unknown strategy 'asyncoi' (did you mean 'asyncio'?)"),
        (
            ["run", "asyncio", "threadpool", "--baseline", "threadpol"],
            "(did you mean 'threadpool'?)",
        ),
        (["suite", "quik"], "unknown suite 'quik' (did you mean 'quick'?)"),
    ],
)
def test_did_you_mean(args, expected, run_cli, tmp_path):
    proc = run_cli(*args, "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and expected in proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and not (tmp_path / "out").exists()


def test_did_you_mean_in_a_suite_file(tmp_path):
    from bench._exceptions import SpecError
    from bench.define.spec import load_suite

    path = tmp_path / "s.toml"
    path.write_text('[suite]\nstrategies = ["sequental"]\n')
    with pytest.raises(SpecError, match="did you mean 'sequential'"):
        load_suite(str(path))


def test_dry_run_lists_trials_with_estimates_and_writes_nothing(run_cli, tmp_path):
    out = tmp_path / "out"
    proc = run_cli(
        "run",
        "sequential",
        "asyncio",
        "-n",
        "20",
        "-m",
        "5,10",
        "--latency",
        "100ms",
        "--repeats",
        "2",
        "--dry-run",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert not out.exists()
    lines = proc.stdout.splitlines()
    trials = [ln for ln in lines if re.match(r"\s*\d+  (warm-up|repeat)", ln)]
    # sequential once (it cannot observe C), asyncio at C=5 and C=10: 3 configurations,
    # one warm-up round and 2 repeats
    assert len(trials) == 9
    assert sum(" sequential " in ln for ln in trials) == 3
    asyncio_c5 = [ln for ln in trials if " asyncio " in ln and "C=5 " in ln and "repeat" in ln]
    # the ideal (4 rounds of 100 ms) plus the harness's measured overhead
    assert all(float(ln.split()[4]) == pytest.approx(0.7, abs=0.01) for ln in asyncio_c5)
    assert any("measured once" in ln for ln in lines)
    assert "9 trials (3 warm-up), estimated" in lines[-1] and "nothing was run" in lines[-1]


def test_dry_run_of_a_builtin_suite(run_cli):
    proc = run_cli("suite", "quick", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "quick: 20 trials (5 warm-up), estimated" in proc.stdout


def test_an_interpreter_too_old_is_told_so_not_advised_to_install(run_cli, tmp_path):
    from bench.define.pythons import resolve_python

    try:
        resolve_python("3.9")
    except ValueError:
        pytest.skip("no Python 3.9 here")
    out = tmp_path / "out"
    proc = run_cli("run", "sequential", "-n", "2", "--python", "3.9", "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if "error" in ln]
    assert "is Python 3.9" in line and "needs Python 3.10 or newer" in line
    assert "pip install" not in line and not out.exists()


def test_a_busy_machine_is_warned_about(monkeypatch):
    from bench import system

    monkeypatch.setattr(system, "load_average", lambda: [1.5, 1.0, 0.5])
    monkeypatch.setattr(system.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(system, "GOVERNOR", Path("/nonexistent"))
    (line,) = system.busy_warnings()
    assert "busy at the start of the run: load average 1.50 on 2 CPUs" in line
    assert system.busy_warnings(when="at the end of the run") == []  # 1.5 <= 2 CPUs
    monkeypatch.setattr(system, "load_average", lambda: [0.3, 0.2, 0.1])
    assert system.busy_warnings() == []
