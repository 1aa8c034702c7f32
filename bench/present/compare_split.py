"""``flagbench compare RUN --split AXIS``: the arms of one interleaved run, compared pair by pair.

A run whose workload sweeps AXIS over two values or more ran every value in each repeat's
shuffled round. A is the trials with AXIS's first value (in the tables' numeric order), B
each other value in turn; a B trial is matched with the A trial of the same strategy, the
same other axes (less ``--ignore``) and the same repeat, and the statistics are paired
(``bench.results.paired``): no drift allowance, since drift moves both trials of a repeat
alike. The gate (``bench.results.gate``: Bonferroni over the family, an interval that agrees
with its verdict) and every word printed are those of a comparison of runs.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from typing import Any

import pandas as pd

from bench._exceptions import CompareError, SpecError
from bench.define.order import value_key
from bench.define.workload import BY_NAME
from bench.present.compare import _order, check_options, differences, draw, keyed
from bench.present.compare_words import format_comparison
from bench.results import gate, paired, store
from bench.suggest import did_you_mean

INTERLEAVED = "interleaved"  # the table's ``design``: arms of one run, paired


def split_axis(text: str, ignore: Sequence[str]) -> tuple[str, list[str] | None]:
    """``--split AXIS`` or ``--split AXIS=A,B[,...]`` (these arms, in this order), checked: one
    line, exit 2, when AXIS is no axis or is also ignored."""
    name, eq, listed = text.partition("=")
    name = name.strip()
    if name not in BY_NAME or not BY_NAME[name].axis:
        axes = [n for n, f in BY_NAME.items() if f.axis]
        raise SpecError(
            f"--split {name}: not a workload axis{did_you_mean(name, axes)}; allowed: "
            + ", ".join(axes)
        )
    if name in ignore:
        raise SpecError(f"--split {name} and --ignore {name}: an axis is split or ignored")
    if not eq:
        return name, None
    values = [v.strip() for v in listed.split(",") if v.strip()]
    if len(values) < 2 or len(set(values)) != len(values):
        raise SpecError(f"--split {text}: name two different values or more of {name}, A first")
    return name, values


def arms(run: store.Run, axis: str, wanted: Sequence[str] | None = None) -> list[str]:
    """The values of ``axis`` among the run's successful trials, in numeric order (or
    ``wanted``, each checked to be there): the first is A. Fewer than two: one line."""
    t = run.trials[run.trials["status"].astype(str) == "ok"]
    col = BY_NAME[axis].column_name
    values = [str(v) for v in t[col]] if col in t else []
    found = sorted(set(values), key=value_key)
    missing = [v for v in wanted or () if v not in found]
    if missing:
        raise CompareError(
            f"--split {axis}={','.join(wanted or ())}: {run.path} has no successful trial with "
            f"{axis} = {missing[0]!r}; it has {', '.join(map(repr, found)) or 'none'}"
        )
    if len(found) < 2:
        said = f"only {axis} = {found[0]!r}" if found else f"no {axis} column"
        raise CompareError(
            f"--split {axis}: {run.path} has {said}; a run to split needs two values or more "
            f'in its workload (e.g. arm = ["A", "B"], or flagbench run --arm A,B)'
        )
    return list(wanted) if wanted else found


def side(run: store.Run, axis: str, value: str) -> store.Run:
    """The run's trials with ``axis`` = ``value`` only."""
    col = BY_NAME[axis].column_name
    return dataclasses.replace(run, trials=run.trials[run.trials[col].astype(str) == value])


def _rows(run: store.Run, ta: pd.DataFrame, tb: pd.DataFrame, label: str) -> list[dict[str, Any]]:
    order = _order(run, ta)
    recorded = not run.requests.empty and "latency_s" in run.requests
    rows = []
    for key, ga in sorted(ta.groupby("key", sort=False), key=lambda kg: order[kg[0]]):
        gb = tb[tb["key"] == key]
        if gb.empty:
            continue
        pairs = ga[["repeat", "trial_id", "wall_s"]].merge(
            gb[["repeat", "trial_id", "wall_s"]], on="repeat", suffixes=("_a", "_b")
        )
        common = {
            "run": label,
            "run_path": str(run.path),
            "design": INTERLEAVED,
            "config_id": str(ga["config_id"].iloc[0]),
            "config_id_b": str(gb["config_id"].iloc[0]),
            "strategy": str(ga["strategy"].iloc[0]),
            "workload": str(ga["workload"].iloc[0]),
            "workload_b": str(gb["workload"].iloc[0]),
            "p_rank": float("nan"),
        }
        w = paired.wall(
            pairs.set_index("repeat")["wall_s_a"], pairs.set_index("repeat")["wall_s_b"]
        )
        rows.append({**common, **_measure(gate.WALL, w)})
        if recorded:
            r = paired.requests(run.requests, list(pairs["trial_id_a"]), list(pairs["trial_id_b"]))
            if r is not None:
                rows.append({**common, **_measure(gate.REQUEST, r)})
    return rows


def _measure(measure: str, p: paired.Paired) -> dict[str, Any]:
    return {
        "measure": measure,
        "a_value": p.a,
        "b_value": p.b,
        "log_ratio": p.log_ratio,
        "se": p.se,
        "df": p.df,
        "n_a": p.pairs,
        "n_b": p.pairs,
    }


def compare_split(
    run: store.Run, axis: str, ignore: Sequence[str] = (), values: Sequence[str] | None = None
) -> pd.DataFrame:
    """Each arm after the first against the first (``values``: these arms, in this order),
    one row per matched configuration and measure, with the gate's verdicts over all of them
    (one family) and no drift allowance."""
    values = list(values) if values is not None else arms(run, axis)
    dropped = (*ignore, axis)
    ta = keyed(side(run, axis, values[0]), dropped)
    rows: list[dict[str, Any]] = []
    for i, value in enumerate(values[1:]):
        tb = keyed(side(run, axis, value), dropped)
        label = chr(ord("B") + i) if i < 24 else f"R{i + 1}"
        found = _rows(run, ta, tb, label)
        if not found:
            differ = [n for n, _, _ in differences(ta, tb) if n != axis and n not in ignore]
            hint = f"; they differ in {', '.join(differ)}: try --ignore" if differ else ""
            raise CompareError(
                f"--split {axis}: no configuration of {axis} = {value!r} matches one of "
                f"{axis} = {values[0]!r} in {run.path}{hint}"
            )
        rows += found
    return gate.decide(pd.DataFrame(rows), drift=0.0)


def cmd_split(args: argparse.Namespace) -> int:
    """``--split AXIS``: the arms of one interleaved run, paired, with no drift allowance."""
    ignore = check_options(args)
    axis, wanted = split_axis(args.split, ignore)
    if len(args.runs) != 1 or args.baseline is not None:
        raise SpecError(
            f"--split {axis} compares the arms of one run: give exactly one RUN (and no --baseline)"
        )
    if args.drift is not None:
        raise SpecError(
            f"--drift with --split {axis}: interleaved arms have no drift between them to allow for"
        )
    run = store.load(args.runs[0])
    values = arms(run, axis, wanted)
    table = compare_split(run, axis, ignore, values)
    print(f"run: {run.path}")
    ta = keyed(side(run, axis, values[0]), ignore)
    n_a = len(ta)
    print(f"A: {axis} = {values[0]} ({n_a} trial{'s' if n_a != 1 else ''})")
    for label, value in zip(table["run"].unique(), values[1:], strict=False):
        tb = keyed(side(run, axis, value), ignore)
        print(f"{label}: {axis} = {value} ({len(tb)} trial{'s' if len(tb) != 1 else ''})")
        differ = differences(ta, tb)
        print(
            f"{label} differs from A in: "
            + "; ".join(f"{n} (A {x}; {label} {y})" for n, x, y in differ)
        )
    if args.chart is not None:
        draw(table, args.chart, f"{axis} = {values[0]}", values[1:])
        print(f"chart: {args.chart}")
    words = (
        "none: A and B ran interleaved in one run and are paired (wall time by repeat, "
        "requests by request within a repeat), so drift moves both sides of a pair alike"
    )
    print(format_comparison(table, words, args.fail_above))
    if args.fail_above is not None and not gate.regressions(table, args.fail_above).empty:
        return 1
    return 0
