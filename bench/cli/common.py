"""What every command shares: the parser class, one-line errors and warnings, the output
options, and writing a run's report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from bench._exceptions import BenchError
from flags_server import FlagsServerError
from strategies import StrategyError

#: Each package's base error: something the user can fix, said in one line (see ``main``).
USER_ERRORS = (BenchError, FlagsServerError, StrategyError)

#: Exit statuses, distinct so that CI can tell them apart (docs/harness.md, Exit statuses).
EXIT_OK = 0
EXIT_FAILED = 1  # a regression found by compare --fail-above; failed trials in a run
EXIT_USAGE = 2  # a bad option, a bad or unreadable input file, a refused run
EXIT_CRASH = 3  # flagbench itself failed: a bug, with its traceback


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line that points at --help, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def one_line(message: object) -> str:
    return "; ".join(line.strip() for line in str(message).splitlines() if line.strip())


def fail(message: object) -> int:
    print(f"flagbench: error: {one_line(message)}", file=sys.stderr)
    return EXIT_USAGE


def warn(message: object) -> None:
    print(f"flagbench: warning: {one_line(message)}", file=sys.stderr)


def add_command(
    sub: argparse._SubParsersAction[Parser],
    name: str,
    help: str,
    description: str,
    examples: str,
) -> Parser:
    """A subcommand whose --help ends with its examples, as written."""
    return sub.add_parser(
        name,
        help=help,
        description=description,
        epilog=examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_out_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        metavar="DIR",
        help="folder for run folders (default: results)",
    )


def add_output_options(p: argparse.ArgumentParser) -> None:
    add_out_option(p)
    p.add_argument(
        "--server",
        metavar="URL",
        help="use this flag server instead of starting one (loopback only unless --allow-remote)",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a non-loopback --server or --dask-scheduler; concurrency is then capped at 20",
    )
    p.add_argument(
        "--remote-concurrency-cap",
        type=int,
        metavar="N",
        help="with --allow-remote: raise the cap on concurrency to N, for a remote "
        "flag server you own (recorded in meta.json)",
    )
    p.add_argument("--no-report", action="store_true", help="skip the charts and the report")
    p.add_argument("-v", "--verbose", action="store_true", help="a progress bar per trial too")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="list the trials with their estimated durations; run nothing",
    )
    p.add_argument(
        "--save-baseline",
        metavar="NAME",
        help="name this run a baseline (in DIR/baselines/), for compare --baseline NAME",
    )


MAX_REPEATS = 20  # --resolve's cap, a side; beyond it the run says what it can detect


def add_resolve_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--resolve",
        type=float,
        metavar="PCT",
        help="a run with arms: add interleaved rounds to each configuration until compare "
        "--split can detect a PCT%% change, or --max-repeats (see compare --help)",
    )
    p.add_argument(
        "--resolve-on",
        default="arm",
        metavar="AXIS",
        help="with --resolve: the axis whose values are the arms (default: arm)",
    )
    p.add_argument(
        "--max-repeats",
        type=int,
        default=MAX_REPEATS,
        metavar="N",
        help=f"with --resolve: at most N repeats a configuration (default: {MAX_REPEATS})",
    )


def report(run_dir: Path) -> None:
    """Draw a stored run's charts and write its report."""
    # deferred: matplotlib takes a second to load
    from bench.present import report

    # deferred: pandas takes most of a second to load; --help should not wait
    from bench.results import store

    run = store.load(run_dir)
    html, _ = report.write_report(run)  # draws the charts too
    print(f"report: {html}")
