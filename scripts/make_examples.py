"""Regenerate the examples in the docs from real runs, never by hand.

    .venv/bin/python scripts/make_examples.py                 # runs quick and gil, then writes
    .venv/bin/python scripts/make_examples.py --quick docs/example --gil results/RUN

- ``docs/example/``: the folder of a ``flagbench suite quick`` run (raw trial files,
  ``meta.json``), its tables rebuilt and its charts and report redrawn by this version
  (``flagbench collect``, ``flagbench report``);
- the README's "What a run shows" block, between its ``make_examples`` markers: the machine,
  the run's size and duration, and its summary table, all read from ``docs/example``;
- ``docs/screenshots/quick.png`` and ``gil.png``: a screen of each run's ``report.html`` in
  Chromium (quick's first, gil's from its speed-up chart) (playwright, as ``tests/report/test_browser.py`` drives it).

``--quick`` and ``--gil`` take existing run folders instead of running the suites; with
``--quick docs/example`` the committed run is kept and everything else is redrawn from it.
``tests/harness/test_readable.py`` checks that the README's block is what this script writes
from ``docs/example``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "example"
SHOTS = ROOT / "docs" / "screenshots"
README = ROOT / "README.md"
BEGIN = "<!-- make_examples: quick (scripts/make_examples.py writes this block) -->"
END = "<!-- /make_examples -->"
GIL_CHART = "Speed-up against workers, per kind of CPU work"
KEEP = ("meta.json", "trials.parquet", "requests.parquet", "probes.parquet", "summary.csv", "raw")


def _flagbench(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "bench", *args], check=True, timeout=7200)


def _run_suite(name: str, out: Path) -> Path:
    _flagbench("suite", name, "--out", str(out))
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return folder


def _seconds(meta: dict) -> float:
    start, end = (datetime.fromisoformat(meta[k]) for k in ("started", "ended"))
    return (end - start).total_seconds()


def readme_block(run) -> str:
    """The README's example, every number read from ``run`` (a ``bench.load`` result)."""
    from bench.cli.execute import format_summary
    from bench.run.estimate import duration

    meta = run.meta
    s = run.summary
    load = (meta.get("loadavg_at_start") or [float("nan")])[0]
    repeats, warm = meta["spec"]["repeats"], meta["spec"]["warmup"]
    strategies = list(dict.fromkeys(s["strategy"]))
    table = format_summary(s).strip("\n").split("\n\n")[0]
    first = s.iloc[0]
    size = f"{len(strategies)} strategies x {repeats} repeats" + (
        f", after {warm} warm-up round{'s' if warm != 1 else ''}" if warm else ""
    )
    return "\n".join(
        [
            BEGIN,
            f"`flagbench suite {meta['suite']}` on this machine ({meta['cpu_count']} cores, "
            f"Python {meta['python']}, load average {load:.2f} at the start): "
            f"{meta['n_trials']} measured trials ({size}) in {duration(_seconds(meta))} "
            f"(start to tables written). Each trial downloads {int(first['n_jobs'])} flags from the "
            f"embedded server with C = {int(first['concurrency'])}:",
            "",
            "```",
            table,
            "```",
            END,
        ]
    )


def write_readme(run) -> None:
    text = README.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + readme_block(run) + tail, encoding="utf-8")


def screenshot(report_html: Path, png: Path, start: str = "") -> None:
    """One screen (1280 x 1600) of the report, from its top or from the heading ``start``."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests" / "report"))
    from test_browser import ARGS, CHROMIUM

    png.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.goto(report_html.resolve().as_uri(), wait_until="load")
        top = 0.0
        if start:
            box = page.locator(f"h2:text-is('{start}'), h3:text-is('{start}')").first.bounding_box()
            top = box["y"] if box else 0.0
        page.screenshot(
            path=str(png), full_page=True, clip={"x": 0, "y": top, "width": 1280, "height": 1600}
        )
        browser.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", type=Path, help="an existing quick run folder")
    ap.add_argument("--gil", type=Path, help="an existing gil run folder")
    args = ap.parse_args()
    import bench

    with tempfile.TemporaryDirectory() as tmp:
        quick = args.quick or _run_suite("quick", Path(tmp) / "quick")
        gil = args.gil or _run_suite("gil", Path(tmp) / "gil")
        if quick.resolve() != EXAMPLE.resolve():
            shutil.rmtree(EXAMPLE, ignore_errors=True)
            EXAMPLE.mkdir(parents=True)
            for name in KEEP:
                src = quick / name
                if src.is_dir():
                    shutil.copytree(src, EXAMPLE / name)
                elif src.exists():
                    shutil.copy2(src, EXAMPLE / name)
        shutil.rmtree(EXAMPLE / "charts", ignore_errors=True)
        _flagbench("collect", str(EXAMPLE))  # the tables of this version, from the raw files
        _flagbench("report", str(EXAMPLE))
        for svg in (EXAMPLE / "charts").glob("*.svg"):  # the docs show the PNGs
            svg.unlink()
        write_readme(bench.load(EXAMPLE))
        _flagbench("report", str(gil))
        screenshot(EXAMPLE / "report.html", SHOTS / "quick.png")
        # gil's first screen is its warnings: its own chart, the point of the suite, instead
        screenshot(gil / "report.html", SHOTS / "gil.png", start=GIL_CHART)
    print(f"wrote {EXAMPLE}, {README.name}'s example, {SHOTS}/quick.png and gil.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
