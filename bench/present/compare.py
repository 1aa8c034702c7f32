"""``flagbench compare REF RUN...``: per configuration, is a run slower or faster than the reference?

Configurations are matched on every workload axis (``bench.define.workload.FIELDS``) and the strategy,
except the axes named in ``--ignore``: runs that differ only in the interpreter compare with
``--ignore python``. An axis a strategy caps is matched as that strategy sees it (sequential
at C=10 and at C=100 is one configuration). For each match and measure (wall time, and the
median request latency when the runs recorded requests): the geometric means of A and B, their
ratio B / A with the interval of the gate's own correction (Welch's t on the logs plus a drift
allowance, Bonferroni over every test), and the gate's verdict (``bench.results.gate``). Every
word printed is computed from the figures beside it: a ratio is the ratio of the two printed
figures, a direction is named only where the test found one, and the header names each axis
on which a run differs from A. The last line is the gate's verdict, PASS or FAIL.
"""

from __future__ import annotations

import argparse
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench._exceptions import CompareError, SpecError
from bench.define.fields import Field
from bench.define.workload import BY_NAME, FIELDS
from bench.present.compare_words import format_comparison
from bench.results import baselines, drift, gate, openloop, requests_measure, stats, store
from bench.suggest import did_you_mean

#: Configurations up to which the Mann-Whitney p (``p_rank``, not used by the gate) is given:
#: with ties it is a permutation test of about 0.1 s each, which ten thousand imported
#: benchmarks would turn into a quarter of an hour.
MAX_RANK_TESTS = 200


def _normal(value: Any) -> str:
    """One spelling per value, whatever dtype the column came back with (60 and 60.0 alike)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool,)) or type(value).__name__ == "bool_":
        return str(bool(value))
    if isinstance(value, (int, float)) or hasattr(value, "dtype"):
        try:
            return repr(float(value))
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def _axis(trials: pd.DataFrame, f: Field) -> pd.Series:
    """An axis's values per trial as the strategy saw them; an older run without the column
    ran with the field's default."""
    col = f.column_name
    if f.capped_by and f"{col}_effective" in trials:
        col = f"{col}_effective"
    if col not in trials:
        return pd.Series([_normal(f.default)] * len(trials), index=trials.index)
    return trials[col].map(_normal)


def keyed(run: store.Run, ignore: Sequence[str] = ()) -> pd.DataFrame:
    """The run's successful trials with ``key`` (what a match needs) and ``full_key`` (the
    whole configuration); a key that stands for configurations differing in an ignored axis
    is refused, since their repeats are not repeats of one thing."""
    t = run.trials[run.trials["status"].astype(str) == "ok"].copy()
    strategy = t["strategy"].astype(str)
    full = {f.name: _axis(t, f) for f in FIELDS}
    t["full_key"] = strategy.str.cat([full[f.name] for f in FIELDS], sep="|")
    kept = [full[f.name] for f in FIELDS if f.name not in ignore]
    t["key"] = strategy.str.cat(kept, sep="|") if kept else strategy
    several = t.groupby("key", sort=False)["full_key"].nunique()
    for key in several[several > 1].index:
        g = t[t["key"] == key]
        differ = [n for n in ignore if full[n][g.index].nunique() > 1]
        values = ", ".join(f"{n} = {sorted(set(full[n][g.index]))}" for n in differ)
        raise CompareError(
            f"--ignore {','.join(ignore)}: {run.path} has "
            f"{g['strategy'].iloc[0]} on several workloads that differ only in "
            f"{values}; ignore only axes on which the runs differ"
        )
    return t


def _differing_axes(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    return [f.name for f in FIELDS if set(_axis(a, f)) != set(_axis(b, f))]


def _spelling(trials: pd.DataFrame, f: Field) -> str:
    """An axis's values in a run as its table spells them (the workload's words, not floats)."""
    col = f.column_name
    if col not in trials:
        return str(f.default)
    return ", ".join(sorted({str(v) for v in trials[col]}))


def differences(a: pd.DataFrame, b: pd.DataFrame) -> list[tuple[str, str, str]]:
    """Each workload axis on which run B's trials differ from A's: (axis, A's, B's values)."""
    return [
        (name, _spelling(a, BY_NAME[name]), _spelling(b, BY_NAME[name]))
        for name in _differing_axes(a, b)
    ]


def _order(ref: store.Run, t: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Keys in the reference summary's row order (the suite's strategy order, baseline first)."""
    s = ref.summary
    listed: list[str] = []
    if len(s):
        for col in ("measured_on", "config_id"):
            if col in s:
                listed += [str(c) for c in s[col] if isinstance(c, str) and c]
    rank = {c: i for i, c in enumerate(dict.fromkeys(listed))}
    by_key = t.groupby("key", sort=False)["config_id"].agg(
        lambda ids: min((rank.get(str(i), len(rank)) for i in ids), default=len(rank))
    )
    return {k: (r, i) for i, (k, r) in enumerate(by_key.items())}


def samples(run: store.Run, t: pd.DataFrame) -> dict[str, np.ndarray]:
    """The times to compare, per key of ``keyed``: each trial's wall time, or, for a trial
    with rounds (an imported pytest-benchmark), its rounds' times: the samples of that one
    benchmark. Rounds are split by trial id as arrays, never one Python object per round."""
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    with_rounds = np.zeros(len(t), dtype=bool)
    r = run.rounds
    if len(r):
        key_of = dict(zip(t["trial_id"].tolist(), t["key"].tolist(), strict=True))
        r = r[r["trial_id"].isin(list(key_of))]
        ids = r["trial_id"].to_numpy()
        order = np.argsort(ids, kind="stable")
        trial_ids, starts = np.unique(ids[order], return_index=True)
        times = np.split(r["time_s"].to_numpy(float)[order], starts[1:])
        for trial_id, part in zip(trial_ids.tolist(), times, strict=True):
            parts[key_of[trial_id]].append(part)
        with_rounds = t["trial_id"].isin(trial_ids).to_numpy()
    for key, walls in t[~with_rounds].groupby("key", sort=False)["wall_s"]:
        parts[str(key)].append(walls.to_numpy(float))
    return {key: np.concatenate(p) for key, p in parts.items()}


def _open_loop(g: pd.DataFrame, side: str) -> dict[str, float]:
    """The achieved rate and the corrected p99 (from the merged histograms) of one side."""
    cols = openloop.summary_columns(g)
    if not cols:
        return {}
    return {
        f"{side}_target_rps": cols["target_rate_rps_median"],
        f"{side}_achieved_rps": cols["achieved_rate_rps_median"],
        f"{side}_p99_corrected_s": cols["latency_corrected_p99_s"],
    }


def _seed(run: store.Run) -> object:
    spec = run.meta.get("spec")
    return spec.get("seed") if isinstance(spec, dict) else None


def _request_row(
    ref: store.Run, ga: pd.DataFrame, other: store.Run, gb: pd.DataFrame
) -> dict[str, Any] | None:
    """The request measure, when both runs drew their latencies from one seed (else a request
    is not the same flag with the same injected latency on both sides)."""
    if _seed(ref) is None or _seed(ref) != _seed(other):
        return None
    if ref.requests.empty or other.requests.empty or "latency_s" not in ref.requests:
        return None
    found = requests_measure.compare(
        ref.requests, list(ga["trial_id"]), other.requests, list(gb["trial_id"])
    )
    if found is None:
        return None
    return {
        "measure": gate.REQUEST,
        "n_a": len(ga),
        "n_b": len(gb),
        "a_value": found.a,
        "b_value": found.b,
        "log_ratio": found.log_ratio,
        "se": found.se,
        "df": found.df,
        "p_rank": math.nan,
    }


def _wall_row(wa: np.ndarray, wb: np.ndarray, ranked: bool) -> dict[str, Any]:
    log_ratio, se, df = stats.log_diff(wb, wa)
    return {
        "measure": gate.WALL,
        "a_value": stats.gmean(wa),
        "b_value": stats.gmean(wb),
        "log_ratio": log_ratio,
        "se": se,
        "df": df,
        "n_a": len(wa),
        "n_b": len(wb),
        "p_rank": stats.mann_whitney_p(wb, wa) if ranked else math.nan,
    }


def _pair(
    ref: store.Run, ta: pd.DataFrame, other: store.Run, tb: pd.DataFrame, label: str
) -> list[dict[str, Any]]:
    order = _order(ref, ta)
    sa, sb = samples(ref, ta), samples(other, tb)
    ranked = len(sa) <= MAX_RANK_TESTS
    rows = []
    for key, ga in sorted(ta.groupby("key", sort=False), key=lambda kg: order[kg[0]]):
        if key not in sb:
            continue
        gb = tb[tb["key"] == key]
        common = {
            "run": label,
            "run_path": str(other.path),
            "config_id": str(ga["config_id"].iloc[0]),
            "strategy": str(ga["strategy"].iloc[0]),
            "workload": str(ga["workload"].iloc[0]),
            "workload_b": str(gb["workload"].iloc[0]),
            **_open_loop(ga, "a"),
            **_open_loop(gb, "b"),
        }
        rows.append({**common, **_wall_row(sa[key], sb[key], ranked)})
        request = _request_row(ref, ga, other, gb)
        if request is not None:
            rows.append({**common, **request})
    return rows


def compare_many(
    ref: store.Run,
    others: Sequence[store.Run],
    ignore: Sequence[str] = (),
    drift: float | Mapping[str, float] = gate.DEFAULT_DRIFT,
) -> pd.DataFrame:
    """Every run against ``ref``, one row per matched configuration and measure, with the
    gate's verdicts over all of them (one family). A run with no match is a CompareError."""
    ta = keyed(ref, ignore)
    rows: list[dict[str, Any]] = []
    for i, other in enumerate(others):
        tb = keyed(other, ignore)
        label = chr(ord("B") + i) if i < 24 else f"R{i + 1}"
        found = _pair(ref, ta, other, tb, label)
        if not found:
            differ = [n for n in _differing_axes(ta, tb) if n not in ignore]
            hint = (
                f"; they differ in {', '.join(differ)}: try --ignore {','.join(differ)}"
                if differ
                else "; they share no strategy"
            )
            raise CompareError(f"no configuration of {other.path} matches one of {ref.path}{hint}")
        rows += found
    return gate.decide(pd.DataFrame(rows), drift=drift)


def compare_runs(
    a: store.Run,
    b: store.Run,
    ignore: Sequence[str] = (),
    drift: float | Mapping[str, float] = gate.DEFAULT_DRIFT,
) -> pd.DataFrame:
    """``b`` against ``a``: see ``compare_many``."""
    return compare_many(a, [b], ignore, drift)


def _ignore_list(text: str | None) -> tuple[str, ...]:
    if not text:
        return ()

    names = tuple(n.strip() for n in text.split(",") if n.strip())
    for name in names:
        if name not in BY_NAME:
            raise SpecError(
                f"--ignore {name}: not a workload axis{did_you_mean(name, BY_NAME)}; "
                f"allowed: {', '.join(BY_NAME)}"
            )
    return names


def _root(args: argparse.Namespace) -> Path:
    """The results folder: where baselines and the machine's drift are kept."""
    return args.results if args.results is not None else Path(args.runs[0]).resolve().parent


def _runs(args: argparse.Namespace) -> tuple[store.Run, list[store.Run]]:
    paths: list[Path] = list(args.runs)
    if args.baseline is not None:
        ref_path = baselines.resolve(_root(args), args.baseline, paths[0])
        return store.load(ref_path), [store.load(p) for p in paths]
    if len(paths) < 2:
        raise SpecError(
            "compare: give two runs or more (the first is the reference), or one "
            "with --baseline NAME"
        )
    return store.load(paths[0]), [store.load(p) for p in paths[1:]]


def allowance(args: argparse.Namespace) -> tuple[float | dict[str, float], str]:
    """The drift allowance (``--drift``, else this machine's stored measurement, else the
    default) and the words that say which it is."""
    if args.drift is not None:
        return args.drift / 100, f"{args.drift:g}% (--drift)"
    stored = drift.load(_root(args))
    if stored is None:
        return gate.DEFAULT_DRIFT, (
            f"{100 * gate.DEFAULT_DRIFT:g}% (the default: no drift measured on this machine "
            f"in {_root(args) / drift.FILENAME}; scripts/aa_gate.py measures it)"
        )
    per = "; ".join(f"{m} {e.words()}" for m, e in stored.measures.items())
    return stored.allowances(), f"measured on {stored.host} {stored.measured_at}: {per}"


def check_options(args: argparse.Namespace) -> tuple[str, ...]:
    """The options every comparison shares, checked; the axes to ignore."""
    if args.fail_above is not None and not (
        args.fail_above >= 0 and math.isfinite(args.fail_above)
    ):
        raise SpecError(f"--fail-above {args.fail_above}: give a percentage >= 0")
    if args.drift is not None and not (0 <= args.drift < 100 and math.isfinite(args.drift)):
        raise SpecError(f"--drift {args.drift}: give a percentage from 0 to less than 100")
    if args.chart is not None and args.chart.suffix not in (".png", ".svg"):
        raise SpecError(f"--chart {args.chart}: the file name must end in .png or .svg")
    return _ignore_list(args.ignore)


def cmd_compare(args: argparse.Namespace) -> int:
    ignore = check_options(args)
    ref, others = _runs(args)
    allowed, drift_words = allowance(args)
    table = compare_many(ref, others, ignore, allowed)
    print(f"A: {ref.path}")
    ta = keyed(ref, ignore)
    for label, other in zip(table["run"].unique(), others, strict=False):
        print(f"{label}: {other.path}")
        differ = differences(ta, keyed(other, ignore))
        print(
            f"{label} differs from A in: "
            + ("; ".join(f"{n} (A {x}; {label} {y})" for n, x, y in differ) or "no workload axis")
        )
    if args.chart is not None:
        draw(table, args.chart, ref.run_id, [o.run_id for o in others])
        print(f"chart: {args.chart}")
    print(format_comparison(table, drift_words, args.fail_above))  # the verdict line last
    if args.fail_above is not None and not gate.regressions(table, args.fail_above).empty:
        return 1
    return 0


def draw(table: pd.DataFrame, path: Path, label_a: str, labels_b: Sequence[str]) -> None:
    """The comparison chart; with several B sides, each row's workload names its side."""
    # deferred: matplotlib takes 0.4 s to import, which a run (its --resolve) and a
    # comparison without a chart would otherwise pay
    from bench.present.charts import compare_chart

    shown = (
        table
        if len(labels_b) == 1
        else table.assign(workload=table["run"] + "/A: " + table["workload"])
    )
    compare_chart(shown, path, label_a=label_a, label_b=", ".join(labels_b))
