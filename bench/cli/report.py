"""``flagbench report``: a stored run's charts and report, drawn again."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.cli.common import Parser, add_command, report

EXAMPLES = """examples:
  flagbench report results/20261126-101500-quick"""


def add(sub: argparse._SubParsersAction[Parser]) -> None:
    parser = add_command(
        sub,
        "report",
        "rebuild a run's charts and report",
        "Draw a stored run's charts again and write its report.html and report.md.",
        EXAMPLES,
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")


def command(args: argparse.Namespace) -> int:
    report(args.run_dir)
    return 0
