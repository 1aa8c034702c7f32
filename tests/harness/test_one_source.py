"""The declarations tie the tables together: each workload field and fault kind, declared once,
is a suite key, a `flagbench run` option and a trials column, and reaches the server."""

from __future__ import annotations

import dataclasses
import json

import pytest

import bench
from bench.cli import build_parser
from bench.define.spec import suite_from_mapping
from bench.define.sweeps import expand
from bench.define.workload import BY_NAME, FIELDS, Workload
from flags_server import ServerConfig
from flags_server.fault_kinds import FAULT_KINDS

SAMPLES = {f.name: f.example for f in FIELDS}
# What a sample needs beside it to be a valid workload (a write delay needs saved files).
COMPANIONS = {
    "save_delay": {"save": True},
    "save_wait": {"save": True, "save_delay": "5ms"},
    "arrivals": {"rate": 20.0},
    "ramp": {"rate": 20.0},
    "overflow": {"rate": 20.0},
}


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_every_field_declares_a_valid_example_other_than_its_default(field):
    assert field.example is not None and field.example != field.default
    assert field.validate("t", field.example) == field.example


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f.name)
def test_every_field_is_a_suite_key(field):
    table = {field.name: SAMPLES[field.name], **COMPANIONS.get(field.name, {})}
    suite = suite_from_mapping({"workloads": [table]}, "t.toml")
    assert getattr(suite.workloads[0], field.name) == SAMPLES[field.name]


@pytest.mark.parametrize("field", [f for f in FIELDS if f.axis], ids=lambda f: f.name)
def test_every_axis_sweeps_from_a_list(field):
    value = SAMPLES[field.name]
    table = (
        {field.name: [field.default, value]} if field.default is not None else {field.name: [value]}
    )
    workloads = expand("t", {**table, **COMPANIONS.get(field.name, {})})
    assert [getattr(w, field.name) for w in workloads][-1] == value


@pytest.mark.parametrize("field", [f for f in FIELDS if f.cli], ids=lambda f: f.name)
def test_every_field_is_a_run_option(field):
    value = SAMPLES[field.name]
    argv = [field.option] if value is True else [field.option, str(value)]
    args = build_parser().parse_args(["run", "asyncio", *argv])
    got = getattr(args, field.name)
    assert (got[0] if field.cli_list else got) == value


def test_run_help_lists_every_option(capsys):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["run", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert all(f.option in text for f in FIELDS if f.cli)
    assert "90%" in text  # a per cent sign in a help text, printed as it is


def test_codes_are_the_run_commands_positional_arguments():
    assert not BY_NAME["codes"].cli
    args = build_parser().parse_args(["run", "asyncio", "BR", "CN"])
    assert args.names == ["asyncio", "BR", "CN"]


@pytest.mark.parametrize(
    "field", [f for f in FIELDS if f.configures == "server"], ids=lambda f: f.name
)
def test_server_fields_are_server_settings(field):
    ServerConfig().replace(**{field.name: SAMPLES[field.name]})


@pytest.mark.parametrize("kind", FAULT_KINDS, ids=lambda k: k.name)
def test_every_fault_kind_is_a_workload_field_an_option_and_sent_to_the_server(kind):
    w = Workload(**{kind.rate_field: 0.5})
    assert w.server_changes()[kind.rate_field] == 0.5
    assert f"{kind.rate_field}=0.5" in w.label
    option = "--" + kind.rate_field.replace("_", "-")
    args = build_parser().parse_args(["run", "asyncio", option, "0.5"])
    assert getattr(args, kind.rate_field) == 0.5


def test_ids_ignore_fields_left_at_their_defaults():
    """A field added later (left at its default) must not change the ids of earlier runs."""
    assert Workload().workload_id == Workload(retries=0).workload_id
    assert Workload().workload_id != Workload(retries=1).workload_id


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, run_cli):
    out = tmp_path_factory.mktemp("r")
    proc = run_cli(
        "run",
        "sequential",
        "asyncio",
        "BR",
        "CN",
        "--latency",
        "1ms",
        "--error-rate",
        "0.1",
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--no-report",
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    (folder,) = out.iterdir()
    return bench.load(folder)


def test_every_field_and_fault_kind_is_a_trials_column(tiny_run):
    columns = set(tiny_run.trials.columns)
    assert {f.column_name for f in FIELDS} <= columns
    assert {f"server_injected_{k.name}" for k in FAULT_KINDS} <= columns
    row = tiny_run.trials.iloc[0]
    assert row["error_rate"] == 0.1 and row["latency"] == "1ms" and row["n_jobs"] == 2


def test_requests_and_probes_carry_the_strategy(tiny_run):
    by_trial = tiny_run.trials.set_index("trial_id")["strategy"].astype(str)
    for table in (tiny_run.requests, tiny_run.probes):
        if len(table):
            assert (
                table["strategy"].astype(str).to_numpy()
                == by_trial.loc[table["trial_id"]].to_numpy()
            ).all()


# The harness's own settings, not the workload's: where files go, how often probes sample,
# the calibrated CPU work (from cpu_work, after a calibration), and two constants.
HARNESS_SETTINGS = {"save_dir", "probe_interval_s", "cpu_work", "backoff_s", "lag_probe"}


def test_every_strategy_setting_is_declared_by_exactly_one_workload_field():
    from strategies.base import Settings

    declared = [f.setting for f in FIELDS if f.setting]
    assert len(declared) == len(set(declared))
    names = {f.name for f in dataclasses.fields(Settings)}
    assert set(declared) == names - HARNESS_SETTINGS


def test_settings_come_from_the_typed_values():
    from bench.run.worker import settings_for

    w = Workload.from_mapping(
        {"save": True, "save_delay": "0.005s", "ramp": "2s", "rate": 10.0, "client": "httpx"}
    )
    s = settings_for(w, None, 0.01, calibrate=False)
    assert (s.save_delay_s, s.ramp_s, s.client, s.loop) == (0.005, 2.0, "httpx", None)


def test_values_are_parsed_once_at_the_edge_into_typed_values():
    """A suite's or a command line's strings become typed values that keep their spelling."""
    from bench.define.values import Codes, CpuWork, Duration, Latency

    w = Workload.from_mapping(
        {"codes": "BR CN", "latency": "5ms", "cpu_work": "python:2ms", "switch_interval": "0.5ms"}
    )
    assert isinstance(w.codes, Codes) and w.codes.codes == ("BR", "CN")
    assert isinstance(w.latency, Latency) and w.latency.model.mean_s == pytest.approx(0.005)
    assert isinstance(w.cpu_work, CpuWork) and (w.cpu_work.kind, w.cpu_work.seconds) == (
        "python",
        0.002,
    )
    assert isinstance(w.switch_interval, Duration) and w.switch_interval.seconds == 0.0005
    # read back from JSON (a raw trial file), the values are typed again and equal
    again = Workload(**json.loads(json.dumps(w.to_dict())))
    assert again == w and isinstance(again.latency, Latency) and again.latency.model.kind == "fixed"


@pytest.mark.parametrize("bad", ["5", "fast", "nanms", "1 ms s"])
def test_a_bad_duration_is_refused_with_what_is_allowed(bad):
    from bench.define.values import Duration

    with pytest.raises(ValueError, match="duration with its unit"):
        Duration(bad)


def test_the_trials_table_has_exactly_its_declared_columns_in_order(tiny_run):
    from bench.results.columns import trial_columns

    assert list(tiny_run.trials.columns) == [c.name for c in trial_columns()]


def test_docs_columns_is_written_from_the_declaration():
    from pathlib import Path

    from bench.results.columns import markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "columns.md"
    assert doc.read_text() == markdown(), "run: python -m bench.results.columns > docs/columns.md"
