"""``flagbench import-pytest-benchmark``: pytest-benchmark's JSON files as a run folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.cli.common import Parser, add_command, add_out_option, report

EXAMPLES = """examples:
  pytest tests/benchmarks --benchmark-only --benchmark-json bench.json
  flagbench import-pytest-benchmark bench.json
  flagbench import-pytest-benchmark .benchmarks/*/0001_*.json --out /tmp/results
  flagbench import-pytest-benchmark before.json && flagbench import-pytest-benchmark after.json
  flagbench compare results/RUN_BEFORE results/RUN_AFTER"""


def add(sub: argparse._SubParsersAction[Parser]) -> None:
    imported = add_command(
        sub,
        "import-pytest-benchmark",
        "turn pytest-benchmark JSON files into a run folder",
        "Make a run folder (tables, charts, report) from JSON files written by\n"
        "pytest-benchmark (--benchmark-json or --benchmark-autosave), with or without\n"
        "flagbench's fixtures: a trial per round where a file has the rounds' times,\n"
        "a summary row per benchmark in any case. The same benchmark in several\n"
        "files pools its rounds.",
        EXAMPLES,
    )
    imported.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE.json",
        help="JSON files written by pytest-benchmark",
    )
    add_out_option(imported)
    imported.add_argument(
        "--baseline",
        metavar="NAME",
        help="speed-ups are against this strategy or test name (default: sequential, when present)",
    )
    imported.add_argument("--no-report", action="store_true", help="skip the charts and the report")


def command(args: argparse.Namespace) -> int:
    # deferred: pandas takes most of a second to load; --help should not wait
    from bench.integrations.pbimport import import_files

    # deferred: pandas takes most of a second to load; --help should not wait
    from bench.results import store

    run_dir = import_files(args.files, args.out, args.baseline, ["flagbench", *args.argv])
    run = store.load(run_dir)
    print(
        f"{run_dir}: {len(run.summary)} configurations, {len(run.trials)} trials from "
        f"{len(args.files)} file(s)"
    )
    if not args.no_report:
        report(run_dir)
    print(f"results: {run_dir}")
    return 0
