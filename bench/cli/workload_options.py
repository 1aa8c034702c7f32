"""``flagbench run``'s workload options, derived from the workload's field declarations."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bench.define.fields import Field
from bench.define.workload import FIELDS


def _converter(f: Field) -> Callable[[str], Any]:
    kinds = f.kind if isinstance(f.kind, tuple) else (f.kind,)
    convert: Callable[[str], Any]
    if float in kinds:
        convert, what = float, "a number"
    elif int in kinds:
        convert, what = int, "a whole number"
    else:
        convert, what = str, "text"

    def one(text: str) -> Any:
        try:
            return convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None

    if not f.cli_list:
        return one
    return lambda text: [one(part) for part in text.split(",")]


def add_workload_options(parser: argparse.ArgumentParser) -> None:
    """One option per workload field (codes are the positional arguments instead)."""
    for f in FIELDS:
        if not f.cli:
            continue
        flags = f.flags or (f.option,)
        shown = (
            f" (default {f.default:g}{f.unit})"
            if isinstance(f.default, (int, float)) and not isinstance(f.default, bool)
            else ""
        )
        text = (f.help + shown).replace("%", "%%")  # argparse %-formats help strings
        if f.kind is bool:
            parser.add_argument(*flags, dest=f.name, action="store_true", default=None, help=text)
        else:
            parser.add_argument(
                *flags, dest=f.name, type=_converter(f), metavar=f.metavar, help=text
            )


def workload_table(args: argparse.Namespace) -> dict[str, Any]:
    """The options the user gave, as a workload table (lists are sweeps)."""
    return {
        f.name: getattr(args, f.name) for f in FIELDS if f.cli and getattr(args, f.name) is not None
    }
