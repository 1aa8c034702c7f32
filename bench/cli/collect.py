"""``flagbench collect``: a run's tables rebuilt from its raw trial files."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.cli.common import Parser, add_command

EXAMPLES = """examples:
  flagbench collect results/20261126-101500-quick"""


def add(sub: argparse._SubParsersAction[Parser]) -> None:
    parser = add_command(
        sub,
        "collect",
        "rebuild a run's tables from its raw trial files",
        "Rebuild a run's tables (trials, requests, probes, summary) from its raw/ "
        "trial files, upgrading a folder written by an older flagbench.",
        EXAMPLES,
    )
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")


def command(args: argparse.Namespace) -> int:
    # deferred: pandas takes most of a second to load; --help should not wait
    from bench.results import store

    # deferred: pandas takes most of a second to load; --help should not wait
    from bench.run.runner import write_tables

    meta = store.read_meta(args.run_dir)  # upgraded: written back with the tables
    n, failed = write_tables(args.run_dir, meta)
    store.write_json_atomic(args.run_dir / "meta.json", meta)
    print(f"{args.run_dir}: {n} trials ({failed} failed) collected")
    return 0
