"""The fault-kind table is the one declaration: every place that names a kind follows it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import flags_server
from flags_server import (
    FAULT_KINDS,
    RATE_FIELDS,
    ConfigError,
    FaultKind,
    RunningServer,
    ServerConfig,
)
from flags_server.cli import build_parser, config_from_args
from flags_server.decide import FaultRates
from flags_server.stats import STAT_FAULTS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "server.md"
DOCS_START = "<!-- fault kinds: generated from flags_server.fault_kinds.FAULT_KINDS"
DOCS_END = "<!-- end of fault kinds -->"
BY_RATE = pytest.mark.parametrize("kind", FAULT_KINDS, ids=lambda k: k.name)


def test_the_table_is_well_formed() -> None:
    names = [k.name for k in FAULT_KINDS]
    assert len(set(names)) == len(names) and "rejected" not in names
    assert len(set(RATE_FIELDS)) == len(RATE_FIELDS) == len(FAULT_KINDS)
    assert tuple(k.rate_field for k in FAULT_KINDS) == RATE_FIELDS
    for kind in FAULT_KINDS:
        assert kind.name.isidentifier() and kind.rate_field.isidentifier(), kind
        assert kind.does and "\n" not in kind.does, kind
        assert kind.client_error_kind is None or kind.client_error_kind.strip(), kind
    assert flags_server.FaultKind is FaultKind and flags_server.RATE_FIELDS is RATE_FIELDS
    assert flags_server.config.RATE_FIELDS is RATE_FIELDS  # the harness imports it from there


def test_the_draw_order_is_todays() -> None:
    """decide() draws in table order: reordering would change every seeded decision."""
    assert [k.name for k in FAULT_KINDS][:5] == [
        "http_error",
        "timeout",
        "reset",
        "truncate",
        "slow",
    ]


def test_an_error_kind_with_a_code_needs_the_status() -> None:
    kind = FaultKind("teapot", "teapot_rate", "answers 418", "http_<code>")
    assert kind.error_kind(418) == "http_418"
    assert kind.option == "--teapot-rate"
    with pytest.raises(ValueError, match="status"):
        kind.error_kind()


@BY_RATE
def test_rate_field_is_a_float_config_field_off_by_default(kind: FaultKind) -> None:
    fields = {f.name: f for f in dataclasses.fields(ServerConfig)}
    assert fields[kind.rate_field].default == 0.0
    assert getattr(ServerConfig(**{kind.rate_field: 0.25}), kind.rate_field) == 0.25
    with pytest.raises(ConfigError, match=f"{kind.rate_field}=1.5"):
        ServerConfig(**{kind.rate_field: 1.5})


@BY_RATE
def test_rate_field_is_a_cli_option(kind: FaultKind) -> None:
    parser = build_parser()
    config = config_from_args(parser.parse_args([kind.option, "0.25"]))
    assert getattr(config, kind.rate_field) == 0.25
    assert sum(getattr(config, field) for field in RATE_FIELDS) == 0.25
    action = parser._option_string_actions[kind.option]
    assert action.dest == kind.rate_field and kind.does in action.help.replace("%%", "%")


@BY_RATE
def test_rate_field_is_a_config_key(srv: RunningServer, kind: FaultKind) -> None:
    assert srv.configure(**{kind.rate_field: 0.25})[kind.rate_field] == 0.25
    assert srv.config()[kind.rate_field] == 0.25
    assert set(RATE_FIELDS) <= set(srv.config())


def test_the_rates_add_up_to_at_most_one() -> None:
    with pytest.raises(ConfigError, match="add up to") as caught:
        ServerConfig(**{field: 0.5 for field in RATE_FIELDS})
    assert all(field in str(caught.value) for field in RATE_FIELDS)


def test_fault_rates_follow_the_table() -> None:
    values = {kind.name: (i + 1) / 100 for i, kind in enumerate(FAULT_KINDS)}
    config = ServerConfig(error_codes=(503,), **{k.rate_field: values[k.name] for k in FAULT_KINDS})
    rates = config.fault_rates
    assert rates.in_order() == tuple(values.items())
    assert rates.total == sum(values.values())
    assert rates.error_codes == (503,)
    assert all(rates[name] == value for name, value in values.items())
    with pytest.raises(TypeError, match="unknown fault kind"):
        FaultRates(teapot=0.1)


def test_stats_count_every_kind_then_rejections(srv: RunningServer) -> None:
    assert (*(k.name for k in FAULT_KINDS), "rejected") == STAT_FAULTS
    assert tuple(srv.stats()["faults"]) == STAT_FAULTS


def _docs_table() -> str:
    rows = [
        "| fault | option | the server | the client records | `/_stats` |",
        "| --- | --- | --- | --- | --- |",
    ]
    for k in FAULT_KINDS:
        client = f"`{k.client_error_kind}`" if k.client_error_kind else "ok (no error)"
        rows.append(f"| `{k.name}` | `{k.option} P` | {k.does} | {client} | `faults.{k.name}` |")
    return "\n".join(rows)


def test_the_docs_table_matches() -> None:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("\n", text.index(DOCS_START)) + 1
    found = text[start : text.index(DOCS_END, start)].strip()
    expected = _docs_table()
    assert found == expected, f"docs/server.md's fault table is stale; put there:\n{expected}"
