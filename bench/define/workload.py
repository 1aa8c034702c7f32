"""The workload: everything about a trial except the strategy, each field declared once.

``Workload`` is a frozen dataclass whose every field carries its declaration (``declare``),
written in ``bench.define.workload_fields``: type, default, unit, validation, help text,
whether a suite may sweep it, and what it configures (the server, the worker, the job list,
the interpreter, or nothing: ``arm``). The suite TOML keys, the ``flagbench run`` options, the
workload label, the sweep expansion, ``/_config``'s changes and the trials-table columns all
derive from ``FIELDS``: adding an axis is one field there, plus the code that uses it. Values
are parsed at the edge (``from_mapping``) into the typed values of ``bench.define.values``;
nothing downstream parses them again. A fault kind of the server's table without its
``*_rate`` field stops the import here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench._exceptions import SpecError
from bench.define import together
from bench.define.fields import DECLARATION, Field, setting_value
from bench.define.workload_fields import WorkloadFields
from flags_server.fault_kinds import RATE_FIELDS


@dataclass(frozen=True)
class Workload(WorkloadFields):
    """Everything about a trial except the strategy: the same workload means identical
    conditions. Build one from a suite's or a command line's values with ``from_mapping``,
    which checks them; direct construction types the values but checks no ranges."""

    def __post_init__(self) -> None:
        """Values given directly (tests, JSON read back) become typed as from_mapping's."""
        for f in FIELDS:
            value = getattr(self, f.name)
            if f.canon is not None and value is not None and type(value) is str:
                object.__setattr__(self, f.name, f.canon(value))

    @property
    def workload_id(self) -> str:
        """Stable across flagbench versions: only values that differ from the defaults count,
        so a field added later does not change the id of a workload that leaves it alone."""
        changed = {k: v for k, v in dataclasses.asdict(self).items() if v != BY_NAME[k].default}
        blob = json.dumps(changed, sort_keys=True)
        return hashlib.blake2b(blob.encode(), digest_size=4).hexdigest()

    @property
    def label(self) -> str:
        """A short human label: N, C and latency, plus whatever differs from the defaults."""
        parts = [f"N={self.jobs_count()}", f"C={self.concurrency}", f"latency={self.latency}"]
        for f in FIELDS:
            value = getattr(self, f.name)
            if f.name not in ("n_jobs", "concurrency", "latency") and value != f.default:
                parts.append(f"{f.name}={value}")
        return " ".join(parts)

    def codes_list(self) -> list[str]:
        codes = self.codes.codes
        if self.n_jobs is None:
            return list(codes)
        return list(itertools.islice(itertools.cycle(codes), self.n_jobs))

    def jobs_count(self) -> int:
        return len(self.codes_list())

    def blocking_steps_s(self) -> tuple[float, float]:
        """Per job: seconds of calibrated CPU work and of slow write (an awaited one blocks none)."""
        blocks = self.save and self.save_wait == "block"
        return self.cpu_work.seconds, self.save_delay.seconds if blocks else 0.0

    def settings_values(self) -> dict[str, Any]:
        """The strategy settings this workload sets (``Field.setting``), in their types."""
        return {f.setting: setting_value(getattr(self, f.name)) for f in FIELDS if f.setting}

    def server_changes(self) -> dict[str, Any]:
        """The server settings this workload needs, applied through ``/_config`` before a trial."""
        return {f.name: getattr(self, f.name) for f in FIELDS if f.configures == "server"}

    def columns(self) -> dict[str, Any]:
        """The trials-table columns of this workload (N resolved; an unset text is "", an unset
        number NaN)."""
        out = {f.column_name: f.cell(getattr(self, f.name)) for f in FIELDS}
        out["n_jobs"] = self.jobs_count()
        return out

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], where: str = "workload", cli: bool = False
    ) -> Workload:
        """Validate every key and value (naming the key and what is allowed), then across
        fields; unknown keys are refused with the list of known ones."""
        for key in data:
            if key not in BY_NAME:
                raise SpecError(f"{where}: unknown key {key!r}; allowed: {', '.join(BY_NAME)}")
        values = {k: BY_NAME[k].validate(where, v, cli) for k, v in data.items()}
        workload = cls(**values)
        together.check(workload, BY_NAME, where, cli)
        return workload


FIELDS: tuple[Field, ...] = tuple(
    dataclasses.replace(f.metadata[DECLARATION], name=f.name) for f in dataclasses.fields(Workload)
)
BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}

_missing = [r for r in RATE_FIELDS if r not in BY_NAME]
if _missing:  # a fault kind added to the server's table without its workload field
    raise ImportError(
        f"bench.define.workload_fields: declare the field(s) {', '.join(_missing)} (see _rate)"
    )
