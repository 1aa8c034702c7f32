"""The README's "Benchmark your own strategy in pytest" example works when pasted."""

from __future__ import annotations

import re
from pathlib import Path

from .helpers import benchmarks_json

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[2] / "README.md"
HEADING = "## Benchmark your own strategy in pytest"


def readme_example() -> str:
    """The first Python block of the section."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(HEADING) :]
    section = section[: section.index("\n## ", len(HEADING))]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_the_example_is_short():
    code = [line for line in readme_example().splitlines() if line.strip()]
    assert len(code) <= 6, code  # five lines and the import


def test_the_example_runs_as_pasted(inner, pytester):
    result = inner(readme_example(), "--benchmark-json", "out.json")
    result.assert_outcomes(passed=1)
    info = benchmarks_json(pytester.path / "out.json")["test_fetch_all"]["extra_info"]
    assert info["flagbench"]["counts"] == {"ok": 20, "not_found": 0, "error": 0}
    assert info["flagbench"]["server_peak_inflight"] == 1
