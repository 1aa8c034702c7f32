"""``flagbench suite``: a built-in suite or a suite file, or the rest of an interrupted run."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench._exceptions import SpecError
from bench.cli.common import Parser, add_command, add_output_options, add_resolve_options
from bench.define.spec import load_suite

EXAMPLES = """examples:
  flagbench suite quick                        # the book's five strategies, small workload, ~30 s
  flagbench suite clients                      # every client library and event loop, ~5 minutes
  flagbench suite book --dry-run               # the trials and how long they will take
  flagbench suite my-suite.toml --out /tmp/results
  flagbench suite quick --save-baseline main   # compare later with --baseline main
  flagbench suite quick --resume results/20261126-101500-quick"""


def add(sub: argparse._SubParsersAction[Parser]) -> None:
    suite = add_command(
        sub,
        "suite",
        "run a built-in suite or a suite file",
        "Run a suite: a built-in name (see flagbench list) or a TOML file.",
        EXAMPLES,
    )
    suite.add_argument("suite", nargs="?", metavar="NAME|FILE.toml")
    suite.add_argument(
        "--resume", type=Path, metavar="RUN_DIR", help="finish an interrupted run in its own folder"
    )
    add_output_options(suite)
    add_resolve_options(suite)


def command(args: argparse.Namespace) -> int:
    if args.resume is None and args.suite is None:
        raise SpecError("name a suite (see flagbench list) or give --resume RUN_DIR")
    # a bad suite is refused before the run's imports
    fresh = load_suite(args.suite) if args.resume is None else None
    # deferred: pandas takes most of a second to load; --help and a refusal should not wait
    from bench.cli.execute import execute
    from bench.run.runner import suite_of

    if fresh is not None:
        return execute(fresh, args)
    suite = suite_of(args.resume)
    if args.suite is not None and args.suite not in (suite.name, suite.source):
        raise SpecError(
            f"--resume {args.resume}: that run is of suite {suite.name!r}, not {args.suite!r}"
        )
    return execute(suite, args, resume=args.resume)
