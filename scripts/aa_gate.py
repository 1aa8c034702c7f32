"""Measure the regression gate on this machine: its false alarms and its power, with intervals.

Two modes, each running ``--rounds`` rounds of a suite (``quick`` by default):

- ``--mode interleaved`` (the default, the way to gate): each round is ONE run of the suite
  with three arms (the workload field ``arm``): A1 and A2, identical, and B, with every
  request's latency ``--slowdown`` times longer for the strategies in ``--slow`` (default: all;
  each draw of the server's lognormal latency is exactly that much longer, with the same
  seed). The three arms run in every repeat's shuffled round, so one run gives one A/A pair
  and one slowdown pair, compared as ``flagbench compare RUN --split arm`` does (paired, no
  drift allowance): A2 against A1, and B against A1 (``--ignore latency``). Each run has
  ``--resolve`` at the gate's threshold (the CI recipe; ``--resolve 0``: the suite's repeats
  only), so a noisy configuration gets more repeats.
- ``--mode sequential`` (comparing separate runs, as ``compare --baseline`` does): each round
  is three runs one after the other, A1, A2 and B, compared with the drift allowance. It also
  measures the drift per measure from the A/A pairs (``bench.results.drift``: unclipped, with
  its interval) and, with ``--pairs-needed`` (10) pairs or more, stores it in the results folder
  (``--store``, the parent of ``--out``), where ``flagbench compare`` takes its allowance from.

- **False alarms**: A/A pairs in which the gate FAILs at ``--fail-above``.
- **Power, per strategy**: slowdown pairs in which the gate fails on that strategy. The gate
  tests each configuration at ALPHA / m (Bonferroni, m the number of tests), whatever the
  others do, so a strategy's detection in a run where every strategy is slower is its
  detection when it alone is slower; one B arm measures every strategy's power at once.

Rates are given with Wilson 95% intervals, and the load average at the start and end of
every run. Runs are kept under ``--out`` with a manifest, so ``--analyse`` can redo the tables
without running anything; ``--tables CSV`` writes every test of every pair (the simulation's
data, tests/data/).

    .venv/bin/python scripts/aa_gate.py                     # quick, 10 interleaved rounds
    .venv/bin/python scripts/aa_gate.py --mode sequential   # 10 rounds of three runs
    .venv/bin/python scripts/aa_gate.py --rounds 2 --slow asyncio,threadpool --out /tmp/aa
    .venv/bin/python scripts/aa_gate.py --analyse --out /tmp/aa
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

import pandas as pd

from bench.present.compare import compare_many
from bench.present.compare_split import compare_split
from bench.present.compare_words import format_comparison
from bench.results import drift, gate, store

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "aa-gate.json"
ARMS = ("A1", "A2", "B")


def flagbench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], capture_output=True, text=True, cwd=ROOT
    )


def load_words() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f}"


def run_suite(suite: str, out: Path, *more: str) -> tuple[Path, str]:
    load = load_words()
    proc = flagbench("suite", suite, "--out", str(out), "--no-report", *more)
    if proc.returncode != 0:
        sys.exit(f"aa_gate: flagbench suite {suite} failed:\n{proc.stderr}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("results: "))
    return Path(line.removeprefix("results: ")), load


def suite_text(suite: str) -> str:
    if suite.endswith(".toml") or Path(suite).exists():
        return Path(suite).read_text(encoding="utf-8")
    return (resources.files("bench.define.suites") / f"{suite}.toml").read_text(encoding="utf-8")


def _scaled(match: re.Match[str], factor: float) -> str:
    return f"{float(match.group(1)) * factor:g}ms"


def slowed(text: str, factor: float, only: list[str]) -> str:
    """The suite with every workload's latency ``factor`` times longer for ``only`` (all
    strategies if empty): a workload for them at the longer latency, one for the others as it
    was. Latencies must be written in ms (``50ms``, ``lognormal:median=50ms,sigma=0.5``)."""
    blocks = text.split("[[workloads]]")
    out = [blocks[0]]
    for block in blocks[1:]:
        longer = re.sub(
            r'^(latency\s*=\s*")([^"]*)(")',
            lambda m: (
                m.group(1)
                + re.sub(r"(\d+(?:\.\d+)?)ms", lambda x: _scaled(x, factor), m.group(2))
                + m.group(3)
            ),
            block,
            flags=re.M,
        )
        if longer == block:
            sys.exit("aa_gate: a workload has no latency in ms to slow down")
        if not only:
            out.append(longer)
            continue
        names = json.dumps(only)
        out.append(longer.rstrip("\n") + f"\nstrategies = {names}\n\n")
        rest = [s for s in strategies_of(text) if s not in only]
        if rest:
            out.append(block.rstrip("\n") + f"\nstrategies = {json.dumps(rest)}\n\n")
    return "[[workloads]]".join(out)


def interleaved(text: str, factor: float, only: list[str]) -> str:
    """The suite with three arms in each workload: A1 and A2 as it is, B with the latency
    ``factor`` times longer for ``only`` (all strategies if empty) and as it was for the
    others. All three run in every repeat's shuffled round."""
    blocks = text.split("[[workloads]]")
    if len(blocks) < 2:
        sys.exit("aa_gate: the suite has no [[workloads]] table")
    if re.search(r"^arm\s*=", text, flags=re.M):
        sys.exit("aa_gate: the suite already has arms")
    slow_text = slowed(text, factor, only).split("[[workloads]]")
    out = [blocks[0]]
    for block in blocks[1:]:
        out.append(block.rstrip("\n") + f"\narm = {json.dumps(list(ARMS[:2]))}\n\n")
    for block in slow_text[1:]:
        out.append(block.rstrip("\n") + f"\narm = {json.dumps(ARMS[2])}\n\n")
    return "[[workloads]]".join(out)


def strategies_of(text: str) -> list[str]:
    m = re.search(r"^strategies\s*=\s*(\[[^\]]*\])", text, flags=re.M)
    if not m:
        sys.exit("aa_gate: the suite must list its strategies")
    return list(json.loads(m.group(1)))


def wilson(k: int, n: int) -> tuple[float, float]:
    """Wilson's 95% interval of a proportion k / n (sound at 0 and at n, unlike k/n +- 2 se)."""
    if n == 0:
        return math.nan, math.nan
    z = 1.959963984540054
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(k: int, n: int) -> str:
    low, high = wilson(k, n)
    return f"{k}/{n} = {100 * k / n:.0f}% (95% interval {100 * low:.0f} to {100 * high:.0f}%)"


def tables(rounds: list[dict[str, str]], allowance: float | Mapping[str, float]):
    """Per round, the A/A pair's and the slowdown pair's comparison tables."""
    aa, slow = [], []
    for r in rounds:
        if r.get("mode") == "interleaved":
            run = store.load(Path(r["run"]))
            aa.append(compare_split(run, "arm", (), ARMS[:2]))
            slow.append(compare_split(run, "arm", ("latency",), (ARMS[0], ARMS[2])))
            continue
        a1, a2, b = (store.load(Path(r[k])) for k in ("a1", "a2", "b"))
        aa.append(compare_many(a1, [a2], (), allowance))
        slow.append(compare_many(a1, [b], ("latency",), allowance))
    return aa, slow


def write_tables(
    path: Path, rounds: list[dict[str, str]], aa: list[pd.DataFrame], slow: list[pd.DataFrame]
) -> None:
    """Every test of every pair, with the load of its runs: the simulation's data."""
    keep = ["strategy", "measure", "log_ratio", "se", "df", "n_a", "n_b"]
    parts = [
        t[keep].assign(kind=kind, pair=i + 1, load=rounds[i]["load"])
        for kind, tables_ in (("aa", aa), ("slow", slow))
        for i, t in enumerate(tables_)
    ]
    pd.concat(parts).to_csv(path, index=False, float_format="%.6g")
    print(f"tables: {path}")


def measured_drift(aa: list[pd.DataFrame]) -> dict[str, drift.Estimate]:
    out = {}
    for measure in gate.LABELS:
        per_pair = [
            [(d, se) for d, se in zip(t["log_ratio"], t["se"], strict=True) if not math.isnan(se)]
            for t in (t[t["measure"] == measure] for t in aa)
        ]
        if any(per_pair):
            out[measure] = drift.estimate(per_pair)
    return out


def report(
    rounds: list[dict[str, str]], allowance: float | Mapping[str, float], words: str, pct: float
) -> tuple[int, int, dict[str, tuple[int, int]]]:
    aa, slow = tables(rounds, allowance)
    fired = [not gate.regressions(t, pct).empty for t in aa]
    print(f"\n{words}, --fail-above {pct:g}:")
    print(f"  A/A pairs where the gate FAILs: {rate(sum(fired), len(fired))}")
    caught: dict[str, tuple[int, int]] = {}
    slowed_names = json.loads(rounds[0]["slowed"])
    for name in slowed_names:
        k = sum(bool((gate.regressions(t, pct)["strategy"] == name).any()) for t in slow)
        caught[name] = (k, len(slow))
        print(f"  {name:<18} {rounds[0]['factor']}x latency caught: {rate(k, len(slow))}")
    return sum(fired), len(fired), caught


def _verdict(table: pd.DataFrame, pct: float) -> str:
    bad = gate.regressions(table, pct)
    return "FAIL (" + ", ".join(sorted(set(bad["strategy"]))) + ")" if len(bad) else "PASS"


def round_table(
    rounds: list[dict[str, str]], aa: list[pd.DataFrame], slow: list[pd.DataFrame], pct: float
) -> None:
    """One line per round: its run, the load average around it, the repeats each strategy
    ran (more than the suite's where ``--resolve`` added rounds), each pair's verdict."""
    print(
        "\n| round | run | load (1, 5, 15 min) at start; at end | repeats | A/A pair | "
        "slowdown pair: strategies caught |"
    )
    print("| ---: | --- | --- | --- | --- | --- |")
    for i, (r, a, b) in enumerate(zip(rounds, aa, slow, strict=True)):
        caught = sorted(set(gate.regressions(b, pct)["strategy"]))
        loads = r["load"].replace("load ", "")
        print(
            f"| {i + 1} | {Path(r['run']).name} | {loads} | {_repeats(b)} | {_verdict(a, pct)} | "
            f"{len(caught)}/{b['strategy'].nunique()}: {', '.join(caught) or '-'} |"
        )


def _repeats(pairs: pd.DataFrame) -> str:
    """'3', or '3; processpool 5' when some strategies ran more repeats than the others."""
    n = pairs.groupby("strategy")["n_a"].max().astype(int)
    least = int(n.min())
    more = "; ".join(f"{s} {k}" for s, k in n.items() if k > least)
    return f"{least}; {more}" if more else str(least)


def summary_table(
    rounds: list[dict[str, str]], aa: list[pd.DataFrame], slow: list[pd.DataFrame], pct: float
) -> None:
    """False alarms and power, with Wilson 95% intervals, as a Markdown table."""
    fired = sum(not gate.regressions(t, pct).empty for t in aa)
    print(
        f"\n| | A/A pairs where the gate FAILs | slowdown pairs caught "
        f"(latency x{rounds[0]['factor']}) |"
    )
    print("| --- | ---: | ---: |")
    print(f"| any strategy | {rate(fired, len(aa))} | |")
    for name in json.loads(rounds[0]["slowed"]):
        k = sum(bool((gate.regressions(t, pct)["strategy"] == name).any()) for t in slow)
        print(f"| {name} | | {rate(k, len(slow))} |")


def spread(aa: list[pd.DataFrame], slow: list[pd.DataFrame]) -> None:
    """Per strategy and measure: the A/A pairs' root-mean-square log ratio beside the mean
    standard error the gate computed (the model of the simulation test), and the slowdown
    the slowed arm really showed (geometric mean over the pairs)."""
    both = pd.concat([t.assign(kind="aa") for t in aa] + [t.assign(kind="slow") for t in slow])
    print("\nstrategy           measure  A/A rms log ratio  mean se  realised slowdown")
    for (strategy, measure), g in both.groupby(["strategy", "measure"], sort=False):
        a, b = g[g["kind"] == "aa"], g[g["kind"] == "slow"]
        rms = math.sqrt(float((a["log_ratio"] ** 2).mean()))
        print(
            f"{strategy:<18} {measure:<8} {100 * rms:>16.1f}% {100 * a['se'].mean():>7.1f}% "
            f"{100 * (math.exp(b['log_ratio'].mean()) - 1):>+17.1f}%"
        )


def resolve_args(args: argparse.Namespace) -> list[str]:
    """The run's ``--resolve`` (the gate's own threshold unless told), as a CI run would use it."""
    pct = args.fail_above if args.resolve is None else args.resolve
    return [] if pct == 0 else ["--resolve", f"{pct:g}", "--max-repeats", str(args.max_repeats)]


def run_interleaved(args: argparse.Namespace, text: str, only: list[str]) -> list[dict[str, str]]:
    rounds: list[dict[str, str]] = []
    manifest = args.out / MANIFEST
    with tempfile.TemporaryDirectory() as tmp:
        variant = Path(tmp) / f"{Path(args.suite).stem}.toml"
        variant.write_text(interleaved(text, args.slowdown, only), encoding="utf-8")
        for i in range(args.rounds):
            run, start = run_suite(str(variant), args.out, *resolve_args(args))
            end = load_words()
            rounds.append(
                {
                    "mode": "interleaved",
                    "run": str(run),
                    "load": f"{start}; {end}",
                    "slowed": json.dumps(only or strategies_of(text)),
                    "factor": f"{args.slowdown:g}",
                    "suite": args.suite,
                    "resolve": " ".join(resolve_args(args)),
                }
            )
            print(f"round {i + 1}: {run.name} ({start}; at the end {end})", flush=True)
            manifest.write_text(json.dumps(rounds, indent=1), encoding="utf-8")
    return rounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--mode",
        choices=("interleaved", "sequential"),
        default="interleaved",
        help="interleaved: one run of three arms per round, compared with --split "
        "(default); sequential: three runs per round, compared with the drift allowance",
    )
    parser.add_argument("--suite", default="quick", help="built-in suite or TOML file (quick)")
    parser.add_argument("--rounds", type=int, default=10, help="rounds of A1, A2, B (10)")
    parser.add_argument("--slow", default="", help="strategies slowed in B (default: all)")
    parser.add_argument("--slowdown", type=float, default=1.1, help="latency factor in B (1.1)")
    parser.add_argument("--fail-above", type=float, default=5.0, metavar="PCT", help="(5)")
    parser.add_argument(
        "--resolve",
        type=float,
        metavar="PCT",
        help="interleaved: each run's --resolve (default: --fail-above; 0: none, the suite's "
        "repeats only)",
    )
    parser.add_argument("--max-repeats", type=int, default=20, help="with --resolve (20)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "results" / "aa-gate", help="(results/aa-gate)"
    )
    parser.add_argument("--store", type=Path, help="results folder for drift.json (--out's parent)")
    parser.add_argument("--analyse", action="store_true", help="only the tables, from --out")
    parser.add_argument(
        "--tables", type=Path, metavar="CSV", help="also write every test of every pair here"
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error(f"--rounds {args.rounds}: give at least 1")
    if not (args.slowdown > 1 and math.isfinite(args.slowdown)):
        parser.error(f"--slowdown {args.slowdown}: give a factor above 1")
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = args.out / MANIFEST
    root = args.store if args.store is not None else args.out.resolve().parent

    if args.analyse:
        rounds = json.loads(manifest.read_text(encoding="utf-8"))
    else:
        text = suite_text(args.suite)
        only = [s.strip() for s in args.slow.split(",") if s.strip()]
        unknown = [s for s in only if s not in strategies_of(text)]
        if unknown:
            parser.error(f"--slow {','.join(unknown)}: not in the suite's strategies")
        if args.mode == "interleaved":
            rounds = run_interleaved(args, text, only)
        else:
            rounds = run_sequential(args, text, only)

    if rounds[0].get("mode") == "interleaved":
        aa, slow = tables(rounds, 0.0)
        print("\nthe last slowdown pair, as compare --split arm prints it:")
        print(format_comparison(slow[-1], "none (interleaved arms, paired)", args.fail_above))
        if args.tables is not None:
            write_tables(args.tables, rounds, aa, slow)
        spread(aa, slow)
        report(
            rounds,
            0.0,
            "A and B interleaved in one run, paired, no drift allowance",
            args.fail_above,
        )
        round_table(rounds, aa, slow, args.fail_above)
        summary_table(rounds, aa, slow, args.fail_above)
        print(f"runs: {args.out} (manifest {manifest.name})")
        return 0
    return sequential_report(args, rounds, root, manifest)


def run_sequential(args: argparse.Namespace, text: str, only: list[str]) -> list[dict[str, str]]:
    """Three runs per round, one after the other: A1, A2 and B."""
    manifest = args.out / MANIFEST
    rounds = []
    with tempfile.TemporaryDirectory() as tmp:
        variant = Path(tmp) / "slowed.toml"
        variant.write_text(slowed(text, args.slowdown, only), encoding="utf-8")
        for i in range(args.rounds):
            (a1, l1), (a2, l2), (b, lb) = (
                run_suite(args.suite, args.out),
                run_suite(args.suite, args.out),
                run_suite(str(variant), args.out),
            )
            rounds.append(
                {
                    "a1": str(a1),
                    "a2": str(a2),
                    "b": str(b),
                    "load": f"{l1}; {l2}; {lb}",
                    "slowed": json.dumps(only or strategies_of(text)),
                    "factor": f"{args.slowdown:g}",
                    "suite": args.suite,
                }
            )
            print(
                f"round {i + 1}: A1 {a1.name} ({l1}), A2 {a2.name} ({l2}), B {b.name} ({lb})",
                flush=True,
            )
            manifest.write_text(json.dumps(rounds, indent=1), encoding="utf-8")
    return rounds


def sequential_report(
    args: argparse.Namespace, rounds: list[dict[str, str]], root: Path, manifest: Path
) -> int:
    """The sequential mode's tables, with the drift allowance before and as just measured."""
    before = drift.load(root)
    if before is not None:
        allowance: float | dict[str, float] = before.allowances()
        words = f"stored before ({before.measured_at})"
    else:
        allowance, words = gate.DEFAULT_DRIFT, f"{100 * gate.DEFAULT_DRIFT:g}% (default)"
    aa, slow = tables(rounds, allowance)
    print("\nthe last slowdown pair, as compare prints it:")
    print(format_comparison(slow[-1], words, args.fail_above))

    if args.tables is not None:
        write_tables(args.tables, rounds, aa, slow)
    measured = measured_drift(aa)
    print(f"\nrun-to-run drift from {len(rounds)} A/A pairs of {rounds[0]['suite']}:")
    for m, e in measured.items():
        print(f"  {m:<12} {e.words()}; unclipped drift^2 {e.excess:+.2e}")
    report(rounds, allowance, f"with the drift allowance {words}", args.fail_above)
    now = {m: e.drift for m, e in measured.items()}
    report(rounds, now, "with the drift allowance just measured (in-sample)", args.fail_above)

    if len(rounds) >= drift.MIN_PAIRS:
        loads = "; ".join(r["load"] for r in rounds)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        stored = drift.Stored(platform.node(), stamp, rounds[0]["suite"], loads, measured)
        print(f"\ndrift stored in {drift.save(root, stored)} (flagbench compare's default)")
    else:
        print(f"\ndrift not stored: {len(rounds)} pairs, {drift.MIN_PAIRS} needed")
    print(f"runs: {args.out} (manifest {manifest.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
