"""Running a suite from the command line (``run`` and ``suite``): the progress, Ctrl-C, the
summary table, the report and the baseline."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from bench._exceptions import RunStopped, SpecError
from bench.cli import resolve
from bench.cli.common import fail, report, warn
from bench.define.spec import Suite
from bench.results import baselines, store
from bench.results.stats import MIN_SAMPLES
from bench.run.estimate import estimate
from bench.run.progress import Progress, plan_lines
from bench.run.runner import REMOTE_CONCURRENCY_CAP, RunOptions, RunOutcome, run_suite
from bench.run.signals import Terminated
from bench.system import busy_during, busy_warnings, own_cpu_s


def execute(suite: Suite, args: argparse.Namespace, resume: Path | None = None) -> int:

    resolving = resolve.check(args, suite)
    if args.dry_run:
        print("\n".join(plan_lines(suite, estimate(suite))))
        if resolving:
            print(
                f"--resolve {resolving.threshold_pct:g}: then one more round at a time of each "
                f"configuration that cannot yet detect it, up to {resolving.max_repeats} repeats"
            )
        return 0
    if args.save_baseline is not None:
        baselines.check_name(args.save_baseline)
    checks_from = own_cpu_s()  # the run's checks start here, all within the load's minute
    started: list[Path] = []
    progress = [Progress(suite)]  # one per call of run_suite: the base run, then each round

    def on_start(run_dir: Path, n_left: int) -> None:
        if not started:
            # once the run is sure to start (a refusal stays one line)
            for line in busy_warnings(own_s=own_cpu_s() - checks_from):
                warn(line)
        started.append(run_dir)
        done = {r.trial.trial_id for r in store.load_raw(run_dir)}
        todo = [t for t in progress[-1].suite.trials() if t.trial_id not in done]
        progress[-1].start(run_dir, todo)

    def note(message: str) -> None:
        print(f"flagbench: {message}", file=sys.stderr)

    options = RunOptions(
        results_root=args.out,
        server_url=args.server,
        allow_remote=args.allow_remote,
        remote_cap=_remote_cap(args),
        verbose=args.verbose,
        command=["flagbench", *args.argv],
        warn=warn,
        note=note,
        on_trial=lambda result: progress[-1].trial(result),
        on_start=on_start,
    )
    outcome = _attempt(suite, options, resume, progress[-1], started)
    if isinstance(outcome, int):
        return outcome
    if resolving is not None:
        for more in resolve.rounds(suite, outcome.run_dir, resolving, note, warn):
            progress.append(Progress(more))
            outcome = _attempt(more, options, outcome.run_dir, progress[-1], started)
            if isinstance(outcome, int):
                return outcome
    run = store.load(outcome.run_dir)
    use = run.meta.get("cpu_during_run")
    during = busy_during(use)
    for line in [during] if use else busy_warnings(when="at the end of the run"):
        if line:
            warn(line)
    print(format_summary(run.summary))
    status = 0
    if outcome.n_failed:
        _report_failures(run.trials)
        status = 1
    if not args.no_report:
        try:
            report(outcome.run_dir)
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
    if not args.no_report and status == 0 and len(progress) == 1:
        # a whole run, as the next estimate will mean it (rounds added by --resolve are not
        # in the estimate, so such a run would teach it a wrong total)
        progress[0].remember()
    if args.save_baseline is not None:
        root = outcome.run_dir.parent
        baselines.save(root, args.save_baseline, outcome.run_dir)
        print(
            f"baseline {args.save_baseline!r}: {outcome.run_dir} (compare with: flagbench "
            f"compare --baseline {args.save_baseline} RUN)"
        )
    return status


def _attempt(
    suite: Suite, options: RunOptions, resume: Path | None, progress: Progress, started: list[Path]
) -> RunOutcome | int:
    """``run_suite`` with its stops said in words: the outcome, or the exit status."""
    try:
        return run_suite(suite, options, resume=resume)
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
        return fail(f"{exc}; finish the run with: flagbench suite --resume {exc.run_dir}")
    finally:
        progress.close()


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
        lines.append(f"stability not assessed where there are fewer than {MIN_SAMPLES} repeats")
    return "\n".join(lines)
