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

from ._exceptions import BenchError, RunStopped, SpecError
from ._signals import Terminated

if TYPE_CHECKING:
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
  flagbench run threadpool asyncio -e -m 50 --latency uniform:0.5..5   # AA..ZZ, most are 404
  flagbench run sequential asyncio -a --latency 0.5 --dry-run          # the plan and its time""",
    "suite": """examples:
  flagbench suite quick                        # the book's five strategies, small workload, ~30 s
  flagbench suite clients                      # every client library and event loop, ~5 minutes
  flagbench suite book --dry-run               # the trials and how long they will take
  flagbench suite my-suite.toml --out /tmp/results
  flagbench suite quick --save-baseline main   # compare later with --baseline main
  flagbench suite quick --resume results/20261126-101500-quick""",
    "compare": """examples:
  flagbench compare results/RUN_A results/RUN_B
  flagbench compare results/RUN_A results/RUN_B --fail-above 5 --chart compare.png
  flagbench compare results/RUN_311 results/RUN_312 --ignore python
  flagbench compare results/RUN_A results/RUN_B results/RUN_C      # B and C against A
  flagbench compare --baseline main results/RUN_NEW --fail-above 5
  flagbench compare --baseline last results/RUN_NEW   # the suite's previous complete run""",
    "import-pytest-benchmark": """examples:
  pytest tests/benchmarks --benchmark-only --benchmark-json bench.json
  flagbench import-pytest-benchmark bench.json
  flagbench import-pytest-benchmark .benchmarks/*/0001_*.json --out /tmp/results
  flagbench import-pytest-benchmark before.json && flagbench import-pytest-benchmark after.json
  flagbench compare results/RUN_BEFORE results/RUN_AFTER""",
    "report": """examples:
  flagbench report results/20261126-101500-quick""",
    "collect": """examples:
  flagbench collect results/20261126-101500-quick""",
    "list": """examples:
  flagbench list""",
    "serve": """examples:
  flagbench serve --port 8001 --latency 0.5        # the book's DELAY server
  flagbench serve --port 8002 --latency uniform:0.5..5 --error-rate 0.25    # its ERROR server""",
}

COMPARE_DESCRIPTION = """\
Compare runs configuration by configuration: the ratio of wall times (geometric means) of each
run against the first, with a 95% interval (Welch's t on the log times, plus a drift allowance
between runs), and a verdict from a gate that keeps the chance of any false alarm over all the
configurations at 5% (Holm's rule). Configurations match on every workload axis and the
strategy, except the axes named in --ignore."""


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


def _add_out_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        metavar="DIR",
        help="folder for run folders (default: results)",
    )


def _add_output_options(p: argparse.ArgumentParser) -> None:
    _add_out_option(p)
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


def _version() -> str:
    """The installed distribution's version (pyproject.toml's), as pip knows it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("flagbench")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    import strategies

    from ._workload_options import add_workload_options

    parser = Parser(prog="flagbench", description=__doc__.splitlines()[0].replace("``", ""))
    parser.add_argument("--version", action="version", version=f"flagbench {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    run = sub.add_parser(
        "run",
        help="compare strategies on one ad-hoc workload",
        description="Compare download strategies on one workload against the embedded flag "
        f"server. Strategies: {', '.join(strategies.names())}.",
        epilog=EXAMPLES["run"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    _add_output_options(run)

    suite = sub.add_parser(
        "suite",
        help="run a built-in suite or a suite file",
        description="Run a suite: a built-in name (see flagbench list) or a TOML file.",
        epilog=EXAMPLES["suite"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    suite.add_argument("suite", nargs="?", metavar="NAME|FILE.toml")
    suite.add_argument(
        "--resume", type=Path, metavar="RUN_DIR", help="finish an interrupted run in its own folder"
    )
    _add_output_options(suite)

    sub.add_parser(
        "list",
        help="list the built-in suites and strategies",
        description="List the built-in suites and the registered strategies.",
        epilog=EXAMPLES["list"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    serve = sub.add_parser(
        "serve",
        help="run the flag server (same options as flags-server)",
        description="Run the flag server alone, with the latency and faults you choose, until "
        "Ctrl-C (the same server as flags-server; see docs/server.md).",
        epilog=EXAMPLES["serve"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from flags_server.cli import add_server_options

    add_server_options(serve)

    from .gate import DEFAULT_DRIFT

    compare = sub.add_parser(
        "compare",
        help="compare runs configuration by configuration (a CI gate)",
        description=COMPARE_DESCRIPTION,
        epilog=EXAMPLES["compare"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    compare.add_argument(
        "runs",
        type=Path,
        nargs="+",
        metavar="RUN",
        help="run folders; the first is the reference (A), unless --baseline",
    )
    compare.add_argument(
        "--baseline",
        metavar="NAME",
        help="the reference is the baseline saved as NAME (--save-baseline), "
        "or 'last': the previous complete run of the same suite",
    )
    compare.add_argument(
        "--results",
        type=Path,
        metavar="DIR",
        help="where baselines are looked up (default: the folder of the first RUN)",
    )
    compare.add_argument(
        "--ignore",
        metavar="AXIS[,AXIS...]",
        help="match configurations that differ in these workload axes (python, cpu_work, ...)",
    )
    compare.add_argument(
        "--fail-above",
        type=float,
        metavar="PCT",
        help="exit 1 if a configuration is slower by more than PCT percent "
        "and significantly so under the gate's rule",
    )
    compare.add_argument(
        "--drift",
        type=float,
        default=100 * DEFAULT_DRIFT,
        metavar="PCT",
        help="run-to-run drift allowance, the standard deviation of a "
        "configuration's ratio between two runs of the same code "
        f"(default {100 * DEFAULT_DRIFT:g}; scripts/aa_gate.py measures it)",
    )
    compare.add_argument(
        "--chart", type=Path, metavar="FILE.png|svg", help="also draw the comparison"
    )

    imported = sub.add_parser(
        "import-pytest-benchmark",
        help="turn pytest-benchmark JSON files into a run folder",
        description="Make a run folder (tables, charts, report) from JSON files written by\n"
        "pytest-benchmark (--benchmark-json or --benchmark-autosave), with or without\n"
        "flagbench's fixtures: a trial per round where a file has the rounds' times,\n"
        "a summary row per benchmark in any case. The same benchmark in several\n"
        "files pools its rounds.",
        epilog=EXAMPLES["import-pytest-benchmark"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imported.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE.json",
        help="JSON files written by pytest-benchmark",
    )
    _add_out_option(imported)
    imported.add_argument(
        "--baseline",
        metavar="NAME",
        help="speed-ups are against this strategy or test name (default: sequential, when present)",
    )
    imported.add_argument("--no-report", action="store_true", help="skip the charts and the report")

    report = sub.add_parser(
        "report",
        help="rebuild a run's charts and report",
        description="Draw a stored run's charts again and write its report.html and report.md.",
        epilog=EXAMPLES["report"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    collect = sub.add_parser(
        "collect",
        help="rebuild a run's tables from its raw trial files",
        description="Rebuild a run's tables (trials, requests, probes, summary) from its raw/ "
        "trial files, upgrading a folder written by an older flagbench.",
        epilog=EXAMPLES["collect"],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    collect.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    return parser


# ---------------------------------------------------------------- commands


def suite_from_run_args(args: argparse.Namespace) -> Suite:
    """The ad-hoc ``run`` command is a one-workload suite built from its options."""
    import strategies

    from ._workload_options import workload_table
    from .codes import resolve_codes
    from .pythons import expand_all
    from .spec import Suite
    from .suggest import did_you_mean
    from .workload import expand

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


def _execute(suite: Suite, args: argparse.Namespace, resume: Path | None = None) -> int:
    from . import baselines, store
    from .progress import Progress, plan_lines
    from .runner import RunOptions, run_suite
    from .system import busy_during, busy_warnings, own_cpu_s

    if args.dry_run:
        from .estimate import estimate

        print("\n".join(plan_lines(suite, estimate(suite))))
        return 0
    if args.save_baseline is not None:
        baselines.check_name(args.save_baseline)
    progress = Progress(suite)
    started: list[Path] = []

    def on_start(run_dir: Path, n_left: int) -> None:
        started.append(run_dir)
        # once the run is sure to start (a refusal stays one line); this process began
        # moments ago, so all of its CPU time (the checks) is in the load average's minute
        for line in busy_warnings(own_s=own_cpu_s()):
            _warn(line)
        done = {r.trial.trial_id for r in store.load_raw(run_dir)}
        progress.start(run_dir, [t for t in suite.trials() if t.trial_id not in done])

    def note(message: str) -> None:
        print(f"flagbench: {message}", file=sys.stderr)

    options = RunOptions(
        results_root=args.out,
        server_url=args.server,
        allow_remote=args.allow_remote,
        remote_cap=_remote_cap(args),
        verbose=args.verbose,
        command=["flagbench", *sys.argv[1:]],
        warn=_warn,
        note=note,
        on_trial=progress.trial,
        on_start=on_start,
    )
    try:
        outcome = run_suite(suite, options, resume=resume)
    except (KeyboardInterrupt, Terminated) as exc:
        progress.close()
        how = "interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
        if started:
            print(
                f"\nflagbench: {how}; finished trials are saved. Finish the run with:\n"
                f"  flagbench suite --resume {started[0]}",
                file=sys.stderr,
            )
        else:
            print(f"\nflagbench: {how} before the run began; nothing was written", file=sys.stderr)
        return 130 if isinstance(exc, KeyboardInterrupt) else exc.exit_status
    except RunStopped as exc:
        progress.close()
        return _fail(f"{exc}; finish the run with: flagbench suite --resume {exc.run_dir}")
    finally:
        progress.close()
    run = store.load(outcome.run_dir)
    use = run.meta.get("cpu_during_run")
    during = busy_during(use)
    for line in [during] if use else busy_warnings(when="at the end of the run"):
        if line:
            _warn(line)
    print(format_summary(run.summary))
    status = 0
    if outcome.n_failed:
        _report_failures(run.trials)
        status = 1
    if not args.no_report:
        try:
            _report(outcome.run_dir)
        except KeyboardInterrupt:
            print(
                f"\nflagbench: interrupted while drawing the report; the results are saved, "
                f"draw it with: flagbench report {outcome.run_dir}",
                file=sys.stderr,
            )
            return 130
        except Exception as exc:  # the measurements are safe; say so and how to retry
            print(
                f"flagbench: error: the report failed ({type(exc).__name__}: {exc}); the "
                f"results are saved, retry with: flagbench report {outcome.run_dir}",
                file=sys.stderr,
            )
            status = 1
    print(f"results: {outcome.run_dir}")
    if not args.no_report and status == 0:  # a whole run, as the next estimate will mean it
        progress.remember()
    if args.save_baseline is not None:
        root = outcome.run_dir.parent
        baselines.save(root, args.save_baseline, outcome.run_dir)
        print(
            f"baseline {args.save_baseline!r}: {outcome.run_dir} (compare with: flagbench "
            f"compare --baseline {args.save_baseline} RUN)"
        )
    return status


def _report_failures(trials: Any) -> None:
    """One line on stderr: how many measured trials failed, and the commonest reasons."""
    failed = trials[trials["status"] != "ok"]
    reasons = failed["failure"].astype(str).value_counts()
    shown = "; ".join(
        f"{reason} ({n})" if n > 1 else reason for reason, n in reasons.head(3).items()
    )
    more = f"; and {len(reasons) - 3} other reasons" if len(reasons) > 3 else ""
    print(
        f"flagbench: {len(failed)} of {len(trials)} trials failed: {shown}{more} "
        "(the trials table's failure column has every reason)",
        file=sys.stderr,
    )


def _remote_cap(args: argparse.Namespace) -> int:
    """The cap on concurrency against a remote target: 20, or the one the user set on purpose."""
    from .runner import REMOTE_CONCURRENCY_CAP

    cap = args.remote_concurrency_cap
    if cap is None:
        return REMOTE_CONCURRENCY_CAP
    if not args.allow_remote:
        raise SpecError(
            f"--remote-concurrency-cap {cap}: give --allow-remote too; remote "
            "targets are refused without it"
        )
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
    """The table printed at the end of a run, one block per workload, in the summary's row
    order (the suite's strategy order, the baseline first), with the book's counts."""
    if summary is None or len(summary) == 0:
        return "no successful trials"
    header = (
        f"{'strategy':<22}{'median s':>10}{'95% CI':>16}{'ideal s':>9}{'speed-up':>10}"
        f"{'efficiency':>12}{'ok':>6}{'not found':>11}{'errors':>8}  bottleneck"
    )
    lines = []
    shared = False
    not_assessed = False
    for workload, group in summary.groupby("workload", sort=False):
        lines += ["", f"workload: {workload}", header]
        for _, r in group.iterrows():
            ci = f"{_fmt_s(r['wall_ci_low_s'])}..{_fmt_s(r['wall_ci_high_s'])}"
            speed = "-" if math.isnan(r["speedup"]) else f"{r['speedup']:.1f}x"
            eff = "-" if math.isnan(r["efficiency_median"]) else f"{r['efficiency_median']:.2f}"
            flag = " (unstable)" if r.get("stability") == "unstable" else ""
            not_assessed |= r.get("stability") == "not assessed"
            mark = "*" if isinstance(r.get("measured_on"), str) and r["measured_on"] else ""
            shared |= bool(mark)
            lines.append(
                f"{r['strategy'] + mark:<22}{_fmt_s(r['wall_median_s']):>10}{ci:>16}"
                f"{_fmt_s(r['ideal_s']):>9}{speed:>10}{eff:>12}"
                f"{r.get('n_ok_median', math.nan):>6g}"
                f"{r.get('n_not_found_median', math.nan):>11g}"
                f"{r['n_error_median']:>8g}  {r['bottleneck']}{flag}"
            )
    lines.append("")
    lines.append(
        "95% CI: of the geometric mean (Student t on the log times); ok, not found, "
        "errors: final outcomes per trial (median)"
    )
    if shared:
        lines.append(
            "* measured once on another workload that this strategy cannot tell apart "
            "from this one (sequential does not depend on C)"
        )
    if not_assessed:
        from .stats import MIN_SAMPLES

        lines.append(f"stability not assessed where there are fewer than {MIN_SAMPLES} repeats")
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
    from . import dependencies, venvs
    from .pythons import ALL, found_pythons

    found = found_pythons(lambda v: dependencies.supports(".".join(map(str, v))))
    print(f"interpreters (python = {ALL!r}; each gets a venv in {venvs.cache_dir()}):")
    print(f"  {', '.join(found) or 'none found (Python ' + dependencies.needed_python() + ')'}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from flags_server.cli import serve_from_args

    return serve_from_args(args)


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
        if args.command == "import-pytest-benchmark":
            return _cmd_import(args)
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
        raise SpecError(
            f"--resume {args.resume}: that run is of suite {suite.name!r}, not {args.suite!r}"
        )
    return _execute(suite, args, resume=args.resume)


def _cmd_collect(args: argparse.Namespace) -> int:
    from . import store
    from .runner import write_tables

    meta = store.read_meta(args.run_dir)  # upgraded: written back with the tables
    n, failed = write_tables(args.run_dir, meta)
    store.write_json_atomic(args.run_dir / "meta.json", meta)
    print(f"{args.run_dir}: {n} trials ({failed} failed) collected")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from . import store
    from .pbimport import import_files

    run_dir = import_files(args.files, args.out, args.baseline, ["flagbench", *sys.argv[1:]])
    run = store.load(run_dir)
    print(
        f"{run_dir}: {len(run.summary)} configurations, {len(run.trials)} trials from "
        f"{len(args.files)} file(s)"
    )
    if not args.no_report:
        _report(run_dir)
    print(f"results: {run_dir}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
