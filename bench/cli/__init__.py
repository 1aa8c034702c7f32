"""``flagbench``: run suites and ad-hoc comparisons, serve flags, compare runs, rebuild reports.

One module per command (``bench.cli.run``, ``bench.cli.suite``, ...), each with ``add`` (its
options) and ``command`` (what it does); the options they share are in ``bench.cli.common``.
User errors (the base error of each package: bench, flags_server, strategies) become one
line on stderr and exit status 2, in ``main`` alone; Ctrl-C saves what finished and exits 130
with the command that resumes the run. A crash of flagbench itself (a bug) exits 3, with its
traceback, so that CI never reads it as a regression (1) or a user's error (2).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

from bench.cli import (
    collect,
    compare,
    import_pytest_benchmark,
    listing,
    python,
    report,
    run,
    serve,
    suite,
)
from bench.cli.common import EXIT_CRASH, USER_ERRORS, Parser, fail, one_line

#: The commands, in the order ``flagbench --help`` lists them.
COMMANDS = {
    "run": run,
    "suite": suite,
    "list": listing,
    "serve": serve,
    "compare": compare,
    "import-pytest-benchmark": import_pytest_benchmark,
    "report": report,
    "collect": collect,
    "python": python,
}
EXAMPLES = {name: module.EXAMPLES for name, module in COMMANDS.items()}


def _version() -> str:
    """The installed distribution's version (pyproject.toml's), as pip knows it."""
    try:
        return version("flagbench")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="flagbench", description=__doc__.splitlines()[0].replace("``", ""))
    parser.add_argument("--version", action="version", version=f"flagbench {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for module in COMMANDS.values():
        module.add(sub)
    return parser


def parse_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line; ``run`` also takes country codes after its options
    (``run asyncio --repeats 1 BR``), where argparse alone would refuse them."""
    args, extra = parser.parse_known_args(argv)
    if args.command == "run":
        args.names += [arg for arg in extra if not arg.startswith("-")]
        extra = [arg for arg in extra if arg.startswith("-")]
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parse_args(parser, argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # the command a run records
    try:
        return COMMANDS[args.command].command(args)
    except USER_ERRORS as exc:
        return fail(exc)
    except KeyboardInterrupt:  # outside a run (a run handles its own): nothing to save
        return 130
    except Exception as exc:  # a bug: its traceback for the report, and a status of its own
        traceback.print_exc()
        print(
            f"flagbench: internal error ({type(exc).__name__}: {one_line(exc)}); this is a "
            "bug in flagbench, not a result: please report it with the traceback above",
            file=sys.stderr,
        )
        return EXIT_CRASH


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
