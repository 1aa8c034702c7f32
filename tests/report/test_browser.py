"""report.html in a real browser: Debian's Chromium, driven by playwright, opens the report of
a small real run and checks what a reader sees: every image loaded, no text running out of
its box, no console errors. It saves a screenshot for a developer to look at (its path is
printed; ``FLAGBENCH_SCREENSHOTS=DIR`` keeps it there). Where no browser can run, the test
is skipped and says why; it never passes without a browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("FLAGBENCH_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Elements whose text runs past their own box (a cell, a caption, a heading, a list item).
# A <pre> scrolls by design; an image scales to the page (max-width: 100%).
OVERFLOW_JS = """
() => {
  const out = [];
  const width = document.documentElement.clientWidth;
  for (const el of document.querySelectorAll('p, li, h1, h2, h3, td, th, figcaption, table, img')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0) continue;
    const own = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible';
    const page = r.right > width + 1;
    if (own || page) out.push(el.tagName + ': ' + (el.textContent || el.src || '').slice(0, 80));
  }
  return out;
}
"""

IMAGES_JS = """
() => Array.from(document.images).map(i => ({src: i.src.slice(0, 60), complete: i.complete,
  width: i.naturalWidth, height: i.naturalHeight}))
"""


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install playwright)"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser at {CHROMIUM}: apt-get install chromium (as .ci/run does)")
    with sync_api.sync_playwright() as pw:
        try:
            b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, timeout=60_000)
        except Exception as exc:  # a browser that cannot start here is a skip, said plainly
            pytest.skip(f"{CHROMIUM} did not start: {str(exc).splitlines()[0]}")
        yield b
        b.close()


def test_the_report_shows_every_chart_and_no_text_overflows(browser, written, tmp_path):
    html_path, _ = written
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"failed to load {r.url}"))
    page.goto(Path(html_path).as_uri(), wait_until="load", timeout=60_000)
    images = page.evaluate(IMAGES_JS)
    assert len(images) >= 5  # wall, latency, breakdown, probes, errors, timelines...
    assert all(i["complete"] and i["width"] > 0 and i["height"] > 0 for i in images), images
    assert page.evaluate(OVERFLOW_JS) == []
    assert problems == []
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    keep = os.environ.get("FLAGBENCH_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report.png")
    print(f"screenshot: {shot}")
    page.close()
