"""``flagbench``: run suites and ad-hoc comparisons, serve flags, compare runs, rebuild reports.

User errors (the base error of each package: bench, flags_server, strategies) become one
line on stderr and exit status 2, in ``main`` alone; Ctrl-C saves what finished and exits 130
with the command that resumes the run.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from flags_server import FlagsServerError
from strategies import StrategyError

from ._exceptions import BenchError, SpecError

if TYPE_CHECKING:
    from .records import TrialResult
    from .spec import Suite

#: Each package's base error: something the user can fix, said in one line (see ``main``).
USER_ERRORS = (BenchError, FlagsServerError, StrategyError)

EXAMPLES = {
    "run": """examples:
  flagbench run sequential threadpool asyncio          # the book's POP20 flags, latency 0
  flagbench run asyncio threadpool -a --latency 100ms -m 10,100
  flagbench run asyncio BR CN US --error-rate 0.25 --retries 2
  flagbench run threadpool asyncio --client httpx --loop uvloop
  flagbench run asyncio multiprocess_asyncio dask -m 100 --latency 0 --processes 2
  flagbench run threadpool asyncio -e -m 50 --latency uniform:0.5..5   # AA..ZZ, most are 404""",
    "suite": """examples:
  flagbench suite quick                        # the book's five strategies, small workload, ~1 minute
  flagbench suite clients                      # every client library and event loop, ~5 minutes
  flagbench suite book                         # the book's DELAY and ERROR experiments
  flagbench suite my-suite.toml --out /tmp/results
  flagbench suite quick --resume results/20261126-101500-quick""",
    "compare": """examples:
  flagbench compare results/RUN_A results/RUN_B
  flagbench compare results/RUN_A results/RUN_B --fail-above 5 --chart compare.png""",
}


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line that points at --help, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _one_line(message: object) -> str:
    return "; ".join(line.strip() for line in str(message).splitlines() if line.strip())


def _fail(message: object) -> int:
    print(f"flagbench: error: {_one_line(message)}", file=sys.stderr)
    return 2


def _warn(message: object) -> None:
    print(f"flagbench: warning: {_one_line(message)}", file=sys.stderr)


# ---------------------------------------------------------------- options


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("results"), metavar="DIR",
                   help="folder for run folders (default: results)")  # fmt: skip
    p.add_argument("--server", metavar="URL",
                   help="use this flag server instead of starting one (loopback only unless "
                        "--allow-remote)")  # fmt: skip
    p.add_argument("--allow-remote", action="store_true",
                   help="allow a non-loopback --server or --dask-scheduler; concurrency is then "
                        "capped at 20")  # fmt: skip
    p.add_argument("--remote-concurrency-cap", type=int, metavar="N",
                   help="with --allow-remote: raise the cap on concurrency to N, for a remote "
                        "flag server you own (recorded in meta.json)")  # fmt: skip
    p.add_argument("--no-report", action="store_true", help="skip the charts and the report")
    p.add_argument("-v", "--verbose", action="store_true", help="a progress bar per trial too")


def build_parser() -> argparse.ArgumentParser:
    import strategies

    from ._workload_options import add_workload_options

    parser = Parser(prog="flagbench", description=__doc__.splitlines()[0].strip("`"))
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    run = sub.add_parser(
        "run", help="compare strategies on one ad-hoc workload",
        description="Compare download strategies on one workload against the embedded flag "
                    f"server. Strategies: {', '.join(strategies.names())}.",
        epilog=EXAMPLES["run"], formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    run.add_argument("names", nargs="+", metavar="STRATEGY|CC",
                     help="strategy names, then optional country codes or one-letter prefixes "
                          "(as in the book's scripts)")  # fmt: skip
    which = run.add_mutually_exclusive_group()
    which.add_argument("-a", "--all", action="store_true", help="all 194 countries")
    which.add_argument("-e", "--every", action="store_true",
                       help="every code AA..ZZ (482 of the 676 answer 404)")  # fmt: skip
    run.add_argument("-l", "--limit", type=int, metavar="N", help="only the first N codes")
    add_workload_options(run)
    run.add_argument("--repeats", type=int, default=3, metavar="N", help="measured repeats (3)")
    run.add_argument("--warmup", type=int, default=1, metavar="N", help="warm-up rounds (1)")
    run.add_argument("--seed", type=int, default=0, help="server seed and trial order (0)")
    run.add_argument("--baseline", metavar="STRATEGY",
                     help="speed-ups are against this strategy (default: sequential)")
    run.add_argument("--watchdog", type=float, metavar="S",
                     help="kill a trial after S seconds (default: derived from the workload)")  # fmt: skip
    _add_output_options(run)

    suite = sub.add_parser(
        "suite", help="run a built-in suite or a suite file",
        description="Run a suite: a built-in name (see flagbench list) or a TOML file.",
        epilog=EXAMPLES["suite"], formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    suite.add_argument("suite", nargs="?", metavar="NAME|FILE.toml")
    suite.add_argument("--resume", type=Path, metavar="RUN_DIR",
                       help="finish an interrupted run in its own folder")  # fmt: skip
    _add_output_options(suite)

    sub.add_parser("list", help="list the built-in suites and strategies")

    serve = sub.add_parser("serve", help="run the flag server (same options as flags-server)")
    from flags_server.cli import add_server_options

    add_server_options(serve)

    compare = sub.add_parser(
        "compare", help="compare two runs configuration by configuration",
        description="Ratio of medians (B / A) per configuration with a 95%% interval "
                    "(Welch's t on the log times) and a Mann-Whitney test.",
        epilog=EXAMPLES["compare"], formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    compare.add_argument("run_a", type=Path, metavar="RUN_A")
    compare.add_argument("run_b", type=Path, metavar="RUN_B")
    compare.add_argument("--fail-above", type=float, metavar="PCT",
                         help="exit 1 if any configuration is significantly slower by more "
                              "than PCT percent")  # fmt: skip
    compare.add_argument("--chart", type=Path, metavar="FILE.png|svg",
                         help="also draw the comparison")  # fmt: skip

    report = sub.add_parser("report", help="rebuild a run's charts and report")
    report.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    collect = sub.add_parser("collect", help="rebuild a run's tables from its raw trial files")
    collect.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    return parser


# ---------------------------------------------------------------- commands


def suite_from_run_args(args: argparse.Namespace) -> Suite:
    """The ad-hoc ``run`` command is a one-workload suite built from its options."""
    import strategies

    from ._workload_options import workload_table
    from .codes import resolve_codes
    from .spec import Suite
    from .workload import expand

    names = [n for n in args.names if n in strategies.names()]
    codes = [n for n in args.names if n not in strategies.names()]
    for token in codes:
        if not (token.isalpha() and len(token) <= 2):
            allowed = ", ".join(strategies.names())
            raise SpecError(f"unknown strategy {token!r}; allowed: {allowed}")
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
    for flag, value, lo, hi in (("--repeats", args.repeats, 1, 1000),
                                ("--warmup", args.warmup, 0, 100),
                                ("--seed", args.seed, 0, 2**32 - 1)):  # fmt: skip
        if not lo <= value <= hi:
            raise SpecError(f"{flag} {value}: must be between {lo} and {hi}")
    if args.watchdog is not None and not 0 < args.watchdog <= 86_400:
        raise SpecError(f"--watchdog {args.watchdog}: give seconds, more than 0 and at most 86400")
    if args.baseline is not None and args.baseline not in names:
        raise SpecError(f"--baseline {args.baseline}: not one of the strategies to run "
                        f"({', '.join(names)})")
    workloads = expand("command line", table, cli=True)
    return Suite(name="run", strategies=tuple(dict.fromkeys(names)), workloads=tuple(workloads),
                 repeats=args.repeats, warmup=args.warmup, seed=args.seed,
                 watchdog_s=args.watchdog, baseline=args.baseline or "sequential")  # fmt: skip


def _execute(suite: Suite, args: argparse.Namespace, resume: Path | None = None) -> int:
    from tqdm import tqdm

    from .runner import RunOptions, run_suite

    bar: list[Any] = []
    started: list[Path] = []

    def on_start(run_dir: Path, n_left: int) -> None:
        started.append(run_dir)
        print(f"flagbench: {suite.name}: {n_left} trials -> {run_dir}", file=sys.stderr)
        bar.append(tqdm(total=n_left, unit="trial", disable=None, file=sys.stderr))

    def on_trial(done: TrialResult) -> None:
        trial = done.trial
        wall = f"{done.result.wall_s:.2f}s" if done.result else "FAILED"
        bar[0].set_postfix_str(f"{trial.strategy} {wall}", refresh=False)
        bar[0].update()
        if not done.ok:
            bar[0].write(f"flagbench: trial {trial.trial_id} ({trial.strategy}) failed: "
                         f"{done.failure}")  # fmt: skip

    def warn(message: str) -> None:
        print(f"flagbench: warning: {message}", file=sys.stderr)

    options = RunOptions(results_root=args.out, server_url=args.server,
                         allow_remote=args.allow_remote, remote_cap=_remote_cap(args),
                         verbose=args.verbose,
                         command=["flagbench", *sys.argv[1:]], warn=warn,
                         on_trial=on_trial, on_start=on_start)  # fmt: skip
    try:
        outcome = run_suite(suite, options, resume=resume)
    except KeyboardInterrupt:
        if started and started[0].exists():
            print("\nflagbench: interrupted; finished trials are saved. Finish the run with:\n"
                  f"  flagbench suite --resume {started[0]}", file=sys.stderr)  # fmt: skip
        else:
            print("\nflagbench: interrupted before any trial finished; nothing was saved",
                  file=sys.stderr)  # fmt: skip
        return 130
    finally:
        if bar:
            bar[0].close()
    from . import store

    run = store.load(outcome.run_dir)
    print(format_summary(run.summary))
    status = 0 if outcome.n_failed == 0 else 1
    if not args.no_report:
        try:
            _report(outcome.run_dir)
        except Exception as exc:  # the measurements are safe; say so and how to retry
            print(f"flagbench: error: the report failed ({type(exc).__name__}: {exc}); the "
                  f"results are saved, retry with: flagbench report {outcome.run_dir}",
                  file=sys.stderr)  # fmt: skip
            status = 1
    print(f"results: {outcome.run_dir}")
    return status


def _remote_cap(args: argparse.Namespace) -> int:
    """The cap on concurrency against a remote target: 20, or the one the user set on purpose."""
    from .runner import REMOTE_CONCURRENCY_CAP

    cap = args.remote_concurrency_cap
    if cap is None:
        return REMOTE_CONCURRENCY_CAP
    if not args.allow_remote:
        raise SpecError(f"--remote-concurrency-cap {cap}: give --allow-remote too; remote "
                        "targets are refused without it")  # fmt: skip
    if not 1 <= cap <= 10_000:
        raise SpecError(f"--remote-concurrency-cap {cap}: must be between 1 and 10000")
    return cap


def _report(run_dir: Path) -> None:
    from . import report, store

    run = store.load(run_dir)
    html, _ = report.write_report(run)  # draws the charts too
    print(f"report: {html}")


def _fmt_s(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.3f}"


def format_summary(summary: Any) -> str:
    """The table printed at the end of a run, one block per workload, fastest first."""
    if summary is None or len(summary) == 0:
        return "no successful trials"
    header = (f"{'strategy':<22}{'median s':>10}{'95% CI of mean':>18}{'ideal s':>9}"
              f"{'speed-up':>10}{'efficiency':>12}{'errors':>8}  bottleneck")  # fmt: skip
    lines = []
    for workload, group in summary.groupby("workload", sort=False):
        lines += ["", f"workload: {workload}", header]
        for _, r in group.sort_values("wall_median_s").iterrows():
            ci = f"{_fmt_s(r['wall_ci_low_s'])}..{_fmt_s(r['wall_ci_high_s'])}"
            speed = "-" if math.isnan(r["speedup"]) else f"{r['speedup']:.1f}x"
            eff = "-" if math.isnan(r["efficiency_median"]) else f"{r['efficiency_median']:.2f}"
            flag = " (unstable)" if r["unstable"] else ""
            lines.append(f"{r['strategy']:<22}{_fmt_s(r['wall_median_s']):>10}{ci:>18}"
                         f"{_fmt_s(r['ideal_s']):>9}{speed:>10}{eff:>12}"
                         f"{r['n_error_median']:>8g}  {r['bottleneck']}{flag}")  # fmt: skip
    return "\n".join(lines)


def cmd_list() -> int:
    import strategies

    from .spec import builtin_suites

    print("suites:")
    for name, description in builtin_suites().items():
        print(f"  {name:<12} {description}")
    print("strategies:")
    for name in strategies.names():
        try:
            description = strategies.get(name).description
        except StrategyError as exc:  # a broken plugin must not hide the others
            _warn(f"{exc}; skipped")
            continue
        print(f"  {name:<22} {description}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from flags_server.cli import serve_from_args

    return serve_from_args(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _execute(suite_from_run_args(args), args)
        if args.command == "suite":
            return _cmd_suite(args)
        if args.command == "list":
            return cmd_list()
        if args.command == "serve":
            return cmd_serve(args)
        if args.command == "compare":
            from .compare import cmd_compare

            return cmd_compare(args)
        if args.command == "report":
            _report(args.run_dir)
            return 0
        if args.command == "collect":
            return _cmd_collect(args)
    except USER_ERRORS as exc:
        return _fail(exc)
    except KeyboardInterrupt:  # outside a run (a run handles its own): nothing to save
        return 130
    parser.error(f"unknown command {args.command!r}")  # pragma: no cover


def _cmd_suite(args: argparse.Namespace) -> int:
    from .runner import suite_of
    from .spec import load_suite

    if args.resume is None:
        if args.suite is None:
            raise SpecError("name a suite (see flagbench list) or give --resume RUN_DIR")
        return _execute(load_suite(args.suite), args)
    suite = suite_of(args.resume)
    if args.suite is not None and args.suite not in (suite.name, suite.source):
        raise SpecError(f"--resume {args.resume}: that run is of suite {suite.name!r}, "
                        f"not {args.suite!r}")  # fmt: skip
    return _execute(suite, args, resume=args.resume)


def _cmd_collect(args: argparse.Namespace) -> int:
    from . import store
    from .runner import write_tables

    meta = store.read_meta(args.run_dir)  # upgraded: written back with the tables
    n, failed = write_tables(args.run_dir, meta)
    store.write_json_atomic(args.run_dir / "meta.json", meta)
    print(f"{args.run_dir}: {n} trials ({failed} failed) collected")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
