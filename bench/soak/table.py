"""One row per soak check, and the table they make."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass
class Row:
    """What one check did and found; ``passed`` is whether it held everything it should."""

    check: str
    load: str
    faults: str
    result: str
    lost: int | None = 0  # requests without an outcome, or counted by one side only
    rss_mib: float | None = None  # the worker's peak
    fds: str = "-"  # the server's open descriptors before -> after
    left_over: int = 0  # processes and scratch files of the run still there afterwards
    seconds: float = 0.0
    passed: bool = True


HEADER = ("check", "load", "faults", "result", "lost", "peak RSS", "fds", "left over", "time")


def _cells(row: Row) -> tuple[str, ...]:
    return (
        row.check,
        row.load,
        row.faults,
        row.result if row.passed else f"FAILED: {row.result}",
        "-" if row.lost is None else f"{row.lost:,}",
        "-" if row.rss_mib is None else f"{row.rss_mib:.0f} MiB",
        row.fds,
        str(row.left_over),
        f"{row.seconds:.0f} s",
    )


def markdown(rows: Sequence[Row]) -> str:
    """The table as Markdown, ready for the README."""
    lines = [
        "| " + " | ".join(HEADER) + " |",
        "| " + " | ".join("---:" if h in ("lost", "time") else "---" for h in HEADER) + " |",
    ]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(r)) + " |" for r in rows]
    return "\n".join(lines)
