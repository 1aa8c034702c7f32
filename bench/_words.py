"""Counted nouns, for messages and the report: "1 job", "2 jobs", "3 strategies"."""

from __future__ import annotations


def plural(n: int, noun: str) -> str:
    if n == 1:
        return f"1 {noun}"
    return f"{n} {noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"
