"""``flagbench list``: the built-in suites, the registered strategies, the interpreters found."""

from __future__ import annotations

import argparse

import strategies
from bench.cli.common import Parser, add_command, warn
from bench.define import dependencies
from bench.define.pythons import ALL, found_pythons
from bench.define.spec import builtin_suites
from bench.run import venvs
from strategies import StrategyError

EXAMPLES = """examples:
  flagbench list"""


def add(sub: argparse._SubParsersAction[Parser]) -> None:
    add_command(
        sub,
        "list",
        "list the built-in suites and strategies",
        "List the built-in suites and the registered strategies.",
        EXAMPLES,
    )


def command(args: argparse.Namespace) -> int:
    print("suites:")
    for name, description in builtin_suites().items():
        print(f"  {name:<12} {description}")
    print("strategies:")
    for name in strategies.names():
        try:
            description = strategies.get(name).description
        except StrategyError as exc:  # a broken plugin must not hide the others
            warn(f"{exc}; skipped")
            continue
        print(f"  {name:<22} {description}")
    found = found_pythons(lambda v: dependencies.supports(".".join(map(str, v))))
    print(f"interpreters (python = {ALL!r}; each gets a venv in {venvs.cache_dir()}):")
    print(f"  {', '.join(found) or 'none found (Python ' + dependencies.needed_python() + ')'}")
    return 0
