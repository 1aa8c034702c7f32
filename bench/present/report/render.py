"""The report's two renderings, HTML and Markdown, of one ``Report``.

``bench.present.report.content`` decides what the report says; this module only says it, in two
formats that therefore never disagree. Everything that comes from the data is escaped:
HTML-escaped in one, Markdown-escaped (no formatting, no raw HTML) in the other. The HTML
embeds its charts as ``data:`` URIs and has no external CSS, scripts or fonts.
"""

from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path
from typing import Any

from bench.present.report.model import Report, Table

NO_SUMMARY = "No configuration has a successful trial, so there is nothing to summarise."


# ---------------------------------------------------------------- HTML

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 max-width:1240px;margin:2em auto;padding:0 1.2em;color:#222;background:#fff}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd}
h3{font-size:1.05em;margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.93em}
th,td{border:1px solid #d4d4d4;padding:.25em .6em;text-align:left}
th{background:#f3f3f3}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.warn{background:#fff6e0;border-left:4px solid #e6a532;padding:.5em 1em}
.warn li{margin:.2em 0}
figure{margin:.2em 0 2em}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption p{color:#333;margin:.2em 0}
pre{background:#f6f6f6;padding:.7em 1em;overflow-x:auto}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.muted{color:#666}
"""


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _md_code_spans(text: str) -> str:
    """HTML for a sentence whose `backticked` parts are code (escaped first)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", _e(text))


def _html_table(t: Table) -> str:
    def align(i: int) -> str:
        return ' class="num"' if t.is_numeric(i) else ""

    head = "".join(f"<th{align(i)}>{_e(h)}</th>" for i, h in enumerate(t.header))
    body = "".join(
        "<tr>" + "".join(f"<td{align(i)}>{_e(c)}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in t.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(rep: Report) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(rep.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(rep.title)}</h1>",
        *(f"<p>{_e(line)}</p>" for line in rep.overview),
    ]
    if rep.warnings:
        items = "".join(f"<li>{_md_code_spans(w)}</li>" for w in rep.warnings)
        parts.append(f'<h2 id="warnings">Warnings</h2><div class="warn"><ul>{items}</ul></div>')
    parts.append('<h2 id="summary">Summary</h2>')
    if rep.summary_note:
        parts.append(f'<p class="muted">{_e(rep.summary_note)}</p>')
    for t in rep.summary:
        parts.append(f"<h3>{_e(t.title)}</h3>{_html_table(t)}")
    if not rep.summary:
        parts.append(f"<p>{_e(NO_SUMMARY)}</p>")
    if rep.charts:
        parts.append('<h2 id="charts">Charts</h2>')
    for c in rep.charts:
        data = base64.b64encode(c.png.read_bytes()).decode("ascii")
        lines = "".join(f"<p>{_e(line)}</p>" for line in c.reading)
        caption = f"<figcaption>{lines}</figcaption>" if lines else ""
        parts.append(
            f"<h3>{_e(c.title)}</h3><figure>{caption}"
            f'<img src="data:image/png;base64,{data}" alt="{_e(c.title)}"></figure>'
        )
    parts.append('<h2 id="reproduce">How to reproduce</h2>')
    parts.append(f"<pre><code>{_e(rep.command)}</code></pre>")
    parts.append('<h2 id="metadata">Run metadata</h2>')
    parts.append(_html_table(Table("", ("field", "value"), tuple(rep.metadata))))
    if rep.packages:
        parts.append("<h3>Package versions</h3>")
        parts.append(_html_table(Table("", ("package", "version"), tuple(rep.packages))))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# ---------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>#])")


def _m(text: Any) -> str:
    """Markdown-escape data so a value can neither format nor inject HTML."""
    return _MD_SPECIAL.sub(
        lambda m: {"<": "&lt;", ">": "&gt;"}.get(m.group(1), "\\" + m.group(1)), str(text)
    ).replace("\n", " ")


def _m_code_spans(text: str) -> str:
    pieces = re.split(r"(`[^`]+`)", text)
    return "".join(
        p if p.startswith("`") and p.endswith("`") and len(p) > 1 else _m(p) for p in pieces
    )


def _md_table(t: Table) -> list[str]:
    lines = [
        "| " + " | ".join(_m(h) for h in t.header) + " |",
        "|" + "|".join("---:" if t.is_numeric(i) else ":---" for i in range(len(t.header))) + "|",
    ]
    lines += ["| " + " | ".join(_m(c) for c in row) + " |" for row in t.rows]
    return lines


def render_markdown(rep: Report, base: Path) -> str:
    """``base`` is the folder of report.md: chart links are relative to it."""
    out = [f"# {_m(rep.title)}", "", *(f"{_m(line)}  " for line in rep.overview), ""]
    if rep.warnings:
        out += ["## Warnings", "", *(f"- {_m_code_spans(w)}" for w in rep.warnings), ""]
    out += ["## Summary", ""]
    if rep.summary_note:
        out += [_m(rep.summary_note), ""]
    for t in rep.summary:
        out += [f"### {_m(t.title)}", "", *_md_table(t), ""]
    if not rep.summary:
        out += [_m(NO_SUMMARY), ""]
    if rep.charts:
        out += ["## Charts", ""]
    for c in rep.charts:
        rel = Path(os.path.relpath(c.png, base)).as_posix()
        out += [
            f"### {_m(c.title)}",
            "",
            *(f"{_m(line)}  " for line in c.reading),
            "",
            f"![{_m(c.title)}]({rel})",
            "",
        ]
    fence = "```"
    while fence in rep.command:
        fence += "`"
    out += ["## How to reproduce", "", f"{fence}sh", rep.command, fence, ""]
    out += [
        "## Run metadata",
        "",
        *_md_table(Table("", ("field", "value"), tuple(rep.metadata))),
        "",
    ]
    if rep.packages:
        out += [
            "### Package versions",
            "",
            *_md_table(Table("", ("package", "version"), tuple(rep.packages))),
            "",
        ]
    return "\n".join(out)
