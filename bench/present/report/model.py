"""What the report says, independent of HTML or Markdown.

``bench.present.report.content`` fills it from the run; ``bench.present.report.render`` writes it in both
formats, which therefore never say different things.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[bool, ...] = ()  # right-align these columns

    def is_numeric(self, i: int) -> bool:
        return i < len(self.numeric) and self.numeric[i]


@dataclass(frozen=True)
class ChartEntry:
    title: str
    reading: tuple[str, ...]
    png: Path


@dataclass
class Report:
    """The report's sections; ``summary_note`` explains the summary's columns (empty when
    there is no summary to explain)."""

    title: str
    overview: list[str]
    warnings: list[str]
    summary: list[Table]
    charts: list[ChartEntry]
    command: str
    metadata: list[tuple[str, str]]
    packages: list[tuple[str, str]] = field(default_factory=list)
    summary_note: str = ""
