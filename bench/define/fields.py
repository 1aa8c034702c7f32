"""A workload field's declaration, and the checks that declarations use.

``declare`` makes a dataclass field whose metadata is its ``Field``: everything that the suite
files, the command line, labels, sweeps and tables need to know about it. ``bench.define.
workload`` declares the fields; this module knows nothing of which fields there are.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from bench._exceptions import SpecError
from bench.define.values import Duration

Configures = Literal["server", "worker", "jobs", "interpreter", "nothing"]
NUMBER = (int, float)
DECLARATION = "flagbench"  # the key of a field's declaration in its dataclass metadata


@dataclass(frozen=True)
class Field:
    """One workload field's declaration. ``canon`` makes the typed value (raising ValueError
    with what is allowed); ``check`` then checks its range."""

    name: str
    kind: type | tuple[type, ...]  # the TOML/JSON types accepted
    default: Any
    help: str
    configures: Configures
    check: Callable[[Any], None] | None = None
    unit: str = ""
    flags: tuple[str, ...] = ()  # the `flagbench run` option; () means --name-with-dashes
    cli: bool = True  # offered as a `flagbench run` option (codes are positional there)
    cli_list: bool = False  # the option takes comma-separated values: a sweep
    metavar: str = "VALUE"
    axis: bool = True  # a list value in a suite sweeps it
    size: bool = False  # N or C: what a sweep chart puts on its x axis
    column: str = ""  # its trials-table column; "" means its name
    canon: Callable[[Any], Any] | None = None  # the typed value, in one spelling per value
    example: Any = None  # a valid value other than the default, for docs and tests
    # The strategy attribute that caps this field (``max_concurrency``): to a strategy that
    # declares it, values above the cap are one and the same configuration.
    capped_by: str = ""
    # The strategy ``Settings`` attribute this field sets ("" none): ``settings_values`` fills
    # them all, a duration as seconds and an unset text as None.
    setting: str = ""

    @property
    def option(self) -> str:
        return self.flags[-1] if self.flags else "--" + self.name.replace("_", "-")

    @property
    def column_name(self) -> str:
        return self.column or self.name

    def cell(self, value: Any) -> Any:
        """The value in the trials table: an unset text is "", an unset number NaN."""
        if value is not None:
            return value
        return "" if self.kind is str else math.nan

    def coerce(self, value: Any) -> Any:
        """TOML gives ``1`` for a rate of 1.0: store the declared type, typed."""
        if value is None:
            return None
        if self.kind == NUMBER:
            return float(value)
        if self.canon is not None:
            return self.canon(value)
        return value

    def validate(self, where: str, value: Any, cli: bool = False) -> Any:
        """The value, checked and typed; a SpecError names the key (or the command-line
        option) and what is allowed."""
        if value is None and self.default is None:
            return None
        said = f"{self.option} {value}" if cli else f"{where}: {self.name} = {value!r}"
        kinds = self.kind if isinstance(self.kind, tuple) else (self.kind,)
        # bool is an int in Python; `concurrency = true` is a mistake, not 1
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise SpecError(f"{said} must be {kind_name(kinds)}")
        try:
            value = self.coerce(value)
            if self.check is not None:
                self.check(value)
        except ValueError as exc:
            raise SpecError(f"{said}: {exc}") from None
        return value


def declare(
    default: Any,
    kind: type | tuple[type, ...],
    help: str,
    configures: Configures,
    check: Callable[[Any], None] | None = None,
    **options: Any,
) -> Any:
    """A ``Workload`` field with its declaration in the metadata (the name is filled in from
    the attribute). Typed as Any so that the annotation on the attribute is what checkers see."""
    declaration = Field("", kind, default, help, configures, check, **options)
    return dataclasses.field(default=default, metadata={DECLARATION: declaration})


def kind_name(kind: type | tuple[type, ...]) -> str:
    """How an error names the type a value must have ("an integer", "a number", ...)."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if kinds == NUMBER:
        return "a number"
    names = {
        int: "an integer",
        float: "a number",
        str: "a string",
        bool: "true or false",
        list: "a list",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def between(lo: float, hi: float, unit: str = "") -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo:g} and {hi:g}{unit}")

    return check


def a_or_an(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def duration_between(lo_s: float, hi_s: float, *, above: bool = False) -> Callable[[Any], None]:
    """A duration's range; ``above`` makes ``lo_s`` itself not allowed."""

    def check(value: Duration) -> None:
        if value == "":
            return
        seconds = value.seconds
        if seconds < lo_s or (above and seconds == lo_s) or seconds > hi_s:
            low = "more than" if above else "at least"
            raise ValueError(f"must be {low} {lo_s * 1e3:g}ms and at most {hi_s * 1e3:g}ms")

    return check


def one_of(*allowed: str) -> Callable[[Any], None]:
    """A name from ``allowed``, or "" for the default."""

    def check(value: Any) -> None:
        if value and value not in allowed:
            raise ValueError(f"allowed: {', '.join(allowed)} (or leave it out for the default)")

    return check


def label(longest: int) -> Callable[[Any], None]:
    """A plain label (or "" for none): letters, digits, '.', '_' and '-', as tables spell it."""
    pattern = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{longest - 1}}}")

    def check(value: Any) -> None:
        if value and not pattern.fullmatch(value):
            raise ValueError(
                f"must be 1 to {longest} letters, digits, '.', '_' or '-', "
                "starting with a letter or digit"
            )

    return check


def setting_value(value: Any) -> Any:
    """A field's value as a strategy setting: a duration in seconds, an unset text None."""
    if isinstance(value, Duration):
        return value.seconds
    return None if value == "" else value
