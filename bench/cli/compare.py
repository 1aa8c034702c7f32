"""``flagbench compare``: runs compared configuration by configuration, a CI gate."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.cli.common import Parser, add_command
from bench.results.drift import DEFAULT_DRIFT

EXAMPLES = """examples:
  flagbench compare results/RUN_A results/RUN_B
  flagbench compare results/RUN_A results/RUN_B --fail-above 5 --chart compare.png
  flagbench compare results/RUN_311 results/RUN_312 --ignore python
  flagbench compare results/RUN_A results/RUN_B results/RUN_C      # B and C against A
  flagbench compare --baseline main results/RUN_NEW --fail-above 5
  flagbench compare --baseline last results/RUN_NEW   # the suite's previous complete run
  flagbench run threadpool processpool --arm A,B --latency 50ms --resolve 5   # then:
  flagbench compare results/RUN --split arm --fail-above 5    # arms of one interleaved run
  flagbench compare results/RUN --split client=requests,httpx --fail-above 5"""

DESCRIPTION = """\
Compare runs configuration by configuration, on the wall time and (when the runs recorded
requests with one seed) each request's best latency over the repeats: the geometric means of each run and the first,
their ratio, its interval (Welch's t on the logs plus a drift allowance between runs) and a
verdict from a gate that keeps the chance of any false alarm over all the tests at 5%
(Bonferroni; the interval printed is the one the verdict uses). The last line is the verdict:
PASS or FAIL, the threshold, the worst change. Configurations match on every workload axis and
the strategy, except the axes named in --ignore.

Two modes. Runs against runs (RUN_A RUN_B, or --baseline): separate runs drift apart, so the
gate adds a drift allowance, and on a busy machine three repeats a side do not resolve a 10%
change (the verdict line then warns with the smallest change it can detect). The arms of one
run (--split AXIS): when both sides can run in one invocation (two values of a workload axis
such as client, loop or python, or identical arms, arm = ["A", "B"]), their trials alternate
in every repeat and are compared pair by pair, with no drift allowance; run them with
--resolve PCT (run and suite) and each configuration gets repeats until PCT can be seen.
On a 2-core machine at load 6 to 11 that caught a 10% slowdown of every strategy of the
quick suite in 10 of 10 pairs (processpool after 3 to 5 repeats), with 0 false alarms in 10
A/A pairs; the verdict line warns where a change is below what the runs can detect.

exit status: 0 no regression (or no --fail-above), 1 a regression under --fail-above,
2 a usage error or an unreadable run (one line naming the file), 3 a crash of flagbench."""


def add(sub: argparse._SubParsersAction[Parser]) -> None:
    compare = add_command(
        sub,
        "compare",
        "compare runs configuration by configuration (a CI gate)",
        DESCRIPTION,
        EXAMPLES,
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
        "and significantly so under the gate's rule (wall time or median request latency)",
    )
    compare.add_argument(
        "--drift",
        type=float,
        metavar="PCT",
        help="run-to-run drift allowance, the standard deviation of a "
        "configuration's ratio between two runs of the same code (default: this "
        "machine's, measured by scripts/aa_gate.py and kept in the results folder's "
        f"drift.json; {100 * DEFAULT_DRIFT:g} when none is)",
    )
    compare.add_argument(
        "--split",
        metavar="AXIS[=A,B]",
        help="compare the arms of ONE run: A is the trials with AXIS's first value (or the "
        'first named), B the next (arm = ["A", "B"] in a suite, or flagbench run --arm '
        "A,B), paired by repeat and by request, with no drift allowance",
    )
    compare.add_argument(
        "--chart", type=Path, metavar="FILE.png|svg", help="also draw the comparison"
    )


def command(args: argparse.Namespace) -> int:
    # deferred: it draws with matplotlib
    from bench.present.compare import cmd_compare
    from bench.present.compare_split import cmd_split

    return cmd_split(args) if args.split is not None else cmd_compare(args)
