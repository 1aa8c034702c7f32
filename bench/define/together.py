"""Workload fields that mean something only together, checked once every value is typed.

A field that needs another (a save delay without saving, an awaited delay without a delay,
the open-loop shapes without a rate) is refused in one line that names it and what it needs,
rather than silently ignored; the fault rates may not add up to more than 1. Imports only
the field declarations: the workload passes itself and its declarations in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bench._exceptions import SpecError
from bench.define.fields import Field
from flags_server.fault_kinds import RATE_FIELDS


def check(w: Any, fields: Mapping[str, Field], where: str, cli: bool) -> None:
    """Raise SpecError for the first combination of values of the workload ``w`` that means
    nothing (``w`` is untyped here: bench.define.workload imports this module)."""
    total = sum(getattr(w, k) for k in RATE_FIELDS)
    if total > 1.0 + 1e-9:
        raise SpecError(
            f"{where}: the fault rates ({', '.join(RATE_FIELDS)}) add up to "
            f"{total:g}; allowed: a sum of at most 1"
        )
    if w.save_delay.seconds > 0 and not w.save:
        _alone(
            fields["save_delay"],
            w.save_delay,
            where,
            cli,
            "delays each file write, but files are not saved",
            "--save" if cli else "save = true",
        )
    if w.save_wait != "block" and w.save_delay.seconds == 0:
        _alone(
            fields["save_wait"],
            w.save_wait,
            where,
            cli,
            "says how a slow write's delay is waited out, but there is none",
            f"{'--save-delay' if cli else 'save_delay'} above 0ms",
        )
    if w.rate > 0:
        return
    for name in ("arrivals", "ramp", "overflow"):
        value = getattr(w, name)
        if value != fields[name].default:
            _alone(
                fields[name],
                value,
                where,
                cli,
                "shapes open-loop arrivals, but the load is closed loop",
                f"{'--rate R' if cli else 'rate = R'} (R > 0)",
            )


def _alone(field: Field, value: Any, where: str, cli: bool, does: str, needs: str) -> None:
    said = f"{field.option} {value}" if cli else f"{where}: {field.name} = {value!r}"
    raise SpecError(f"{said} {does}; allowed with {needs} only")
