"""``flagbench run``: strategies on one ad-hoc workload, given on the command line."""

from __future__ import annotations

import argparse

import strategies
from bench._exceptions import SpecError
from bench.cli.common import Parser, add_command, add_output_options, add_resolve_options
from bench.cli.workload_options import add_workload_options, workload_table
from bench.define.codes import resolve_codes
from bench.define.pythons import expand_all
from bench.define.spec import Suite
from bench.define.sweeps import expand
from bench.suggest import did_you_mean

EXAMPLES = """examples:
  flagbench run sequential threadpool asyncio          # the book's POP20 flags, latency 0
  flagbench run asyncio threadpool -a --latency 100ms -m 10,100
  flagbench run asyncio BR CN US --error-rate 0.25 --retries 2
  flagbench run threadpool asyncio --client httpx --loop uvloop
  flagbench run asyncio multiprocess_asyncio dask -m 100 --latency 0 --processes 2
  flagbench run threadpool asyncio -e -m 50 --latency uniform:0.5..5   # AA..ZZ, most are 404
  flagbench run sequential asyncio -a --latency 0.5 --dry-run          # the plan and its time"""


def add(sub: argparse._SubParsersAction[Parser]) -> None:
    run = add_command(
        sub,
        "run",
        "compare strategies on one ad-hoc workload",
        "Compare download strategies on one workload against the embedded flag "
        f"server. Strategies: {', '.join(strategies.names())}.",
        EXAMPLES,
    )
    run.add_argument(
        "names",
        nargs="+",
        metavar="STRATEGY|CC",
        help="strategy names, then optional country codes or one-letter prefixes "
        "(as in the book's scripts)",
    )
    which = run.add_mutually_exclusive_group()
    which.add_argument("-a", "--all", action="store_true", help="all 194 countries")
    which.add_argument(
        "-e", "--every", action="store_true", help="every code AA..ZZ (482 of the 676 answer 404)"
    )
    run.add_argument("-l", "--limit", type=int, metavar="N", help="only the first N codes")
    add_workload_options(run)
    run.add_argument("--repeats", type=int, default=3, metavar="N", help="measured repeats (3)")
    run.add_argument("--warmup", type=int, default=1, metavar="N", help="warm-up rounds (1)")
    run.add_argument("--seed", type=int, default=0, help="server seed and trial order (0)")
    run.add_argument(
        "--baseline",
        metavar="STRATEGY",
        help="speed-ups are against this strategy (default: sequential)",
    )
    run.add_argument(
        "--watchdog",
        type=float,
        metavar="S",
        help="kill a trial after S seconds (default: derived from the workload)",
    )
    add_output_options(run)
    add_resolve_options(run)


def command(args: argparse.Namespace) -> int:
    suite = suite_from_run_args(args)  # a bad value is refused before the run's imports
    # deferred: pandas takes most of a second to load; --help and a refusal should not wait
    from bench.cli.execute import execute

    return execute(suite, args)


def suite_from_run_args(args: argparse.Namespace) -> Suite:
    """The ad-hoc ``run`` command is a one-workload suite built from its options."""
    names = [n for n in args.names if n in strategies.names()]
    codes = [n for n in args.names if n not in strategies.names()]
    for token in codes:
        if not (token.isalpha() and len(token) <= 2):
            allowed = ", ".join(strategies.names())
            raise SpecError(
                f"unknown strategy {token!r}{did_you_mean(token, strategies.names())}"
                f"; allowed: {allowed}"
            )
    if not names:
        raise SpecError(f"no strategy named; allowed: {', '.join(strategies.names())}")
    if args.all or args.every:
        if codes:
            raise SpecError("give country codes or --all/--every, not both")
        code_spec = "all" if args.all else "every"
    else:
        code_spec = " ".join(codes) or "pop20"
    if args.limit is not None:
        if args.limit < 1:
            raise SpecError(f"--limit {args.limit}: must be at least 1")
        try:
            code_spec = " ".join(resolve_codes(code_spec)[: args.limit])
        except ValueError as exc:
            raise SpecError(f"codes: {exc}") from None
    table = {"codes": code_spec, **workload_table(args)}
    for flag, value, lo, hi in (
        ("--repeats", args.repeats, 1, 1000),
        ("--warmup", args.warmup, 0, 100),
        ("--seed", args.seed, 0, 2**32 - 1),
    ):
        if not lo <= value <= hi:
            raise SpecError(f"{flag} {value}: must be between {lo} and {hi}")
    if args.watchdog is not None and not 0 < args.watchdog <= 86_400:
        raise SpecError(f"--watchdog {args.watchdog}: give seconds, more than 0 and at most 86400")
    if args.baseline is not None and args.baseline not in names:
        raise SpecError(
            f"--baseline {args.baseline}: not one of the strategies to run"
            f"{did_you_mean(args.baseline, names)} ({', '.join(names)})"
        )
    workloads = expand("command line", expand_all("command line", table), cli=True)
    return Suite(
        name="run",
        strategies=tuple(dict.fromkeys(names)),
        workloads=tuple(workloads),
        repeats=args.repeats,
        warmup=args.warmup,
        seed=args.seed,
        watchdog_s=args.watchdog,
        baseline=args.baseline or "sequential",
    )
