"""Visual report: one self-contained HTML file showing what the model made of pages.

Each page's blocks appear in reading order, coloured by label, with the confidence and
(from ``Cleaner(explain=True)``) the features behind the label on hover; the cleaned
article sits beside them and a small chart counts blocks per label. Pages are hostile
input, so every piece of page text is escaped, and the file loads nothing from the
network (inline CSS, inline SVG, a Content-Security-Policy that forbids fetching), so
it can be mailed around or opened offline. The palette and block markup are shared
with the labelling page (`classifier.label_server`) so both look the same.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .clean import Cleaner, Page
from .model import LABELS

# One colour per label (border, badge, chart bar) and a light tint for the block.
LABEL_COLOURS: dict[str, str] = {
    "content": "#2e7d32",
    "donation_appeal": "#d84315",
    "related_links": "#1565c0",
    "counter_widget": "#8e24aa",
    "boilerplate": "#757575",
}
LABEL_TINTS: dict[str, str] = {
    "content": "#e8f5e9",
    "donation_appeal": "#fbe9e7",
    "related_links": "#e3f2fd",
    "counter_widget": "#f3e5f5",
    "boilerplate": "#f5f5f5",
}
# No fetch of any kind: a hostile page's text cannot make the report phone home.
CSP_STATIC = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

BASE_CSS = """
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       margin: 0; padding: 16px 24px; color: #212121; background: #fff; }
h1 { font-size: 20px; margin: 0 0 8px; }
h2 { font-size: 17px; margin: 0 0 2px; }
h3 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: #555;
     margin: 12px 0 6px; }
.src { color: #666; font: 12px monospace; word-break: break-all; }
.legend span.sw { display: inline-block; margin: 0 12px 4px 0; font-size: 12px; }
.legend i { display: inline-block; width: 12px; height: 12px; vertical-align: -2px;
            margin-right: 4px; background: var(--c); border-radius: 2px; }
.blk { position: relative; border-left: 6px solid var(--c); background: var(--t);
       margin: 3px 0; padding: 4px 8px; border-radius: 0 3px 3px 0; }
.badge { display: inline-block; min-width: 8.5em; font: 600 11px/1.7 monospace;
         color: #fff; background: var(--c); padding: 0 5px; border-radius: 3px;
         text-align: center; }
.conf { font: 11px monospace; color: #444; margin: 0 4px; }
.tag { font: 11px monospace; color: #888; margin-right: 6px; }
.txt { white-space: pre-wrap; overflow-wrap: anywhere; }
.why { display: none; position: absolute; z-index: 5; left: 40px; top: 100%;
       max-width: 560px; background: #263238; color: #eceff1; font: 12px/1.5 monospace;
       padding: 6px 9px; border-radius: 4px; box-shadow: 0 2px 8px rgba(0,0,0,.3); }
.blk:hover .why { display: block; }
""" + "".join(
    f".lab-{lab} {{ --c: {LABEL_COLOURS[lab]}; --t: {LABEL_TINTS[lab]}; }}\n" for lab in LABELS
)

REPORT_CSS = """
.page { border-top: 2px solid #ddd; padding-top: 14px; margin-top: 18px; }
.head { display: flex; gap: 24px; align-items: flex-start; flex-wrap: wrap; }
.head > div:first-child { flex: 1 1 380px; min-width: 0; }
.cols { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 24px; }
.clean { position: sticky; top: 8px; align-self: start; max-height: 96vh; overflow: auto;
         background: #fafafa; border: 1px solid #e0e0e0; border-radius: 4px;
         padding: 4px 14px; }
.clean p { margin: 0 0 10px; white-space: pre-wrap; overflow-wrap: anywhere; }
.clean .empty { color: #999; font-style: italic; }
.flag { color: #d84315; font-weight: 600; }
table.index { border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; }
table.index td, table.index th { padding: 3px 10px 3px 0; text-align: left;
                                 vertical-align: middle; }
.error { color: #b71c1c; font-family: monospace; }
"""


def esc(text: object) -> str:
    """Escape for HTML text and quoted attributes (pages are hostile input)."""
    return html.escape(str(text), quote=True)


def label_counts(page: Page) -> dict[str, int]:
    """Blocks per label, in LABELS order, zeros included (the chart shows all labels)."""
    counts = Counter(b.label for b in page.blocks)
    return {lab: counts.get(lab, 0) for lab in LABELS}


def legend_html(totals: dict[str, int] | None = None) -> str:
    """Colour swatches for every label, with totals when given."""
    items = []
    for lab in LABELS:
        n = f" ({totals[lab]})" if totals is not None else ""
        items.append(f'<span class="sw lab-{lab}"><i></i>{lab}{n}</span>')
    return f'<div class="legend">{"".join(items)}</div>'


def chart_svg(counts: dict[str, int], width: int = 330) -> str:
    """A horizontal bar chart of blocks per label as inline SVG (no script, no fetch)."""
    row, label_w, num_w = 18, 118, 36
    bar_max = width - label_w - num_w
    top = max(counts.values(), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" width="{width}" '
        f'height="{row * len(counts) + 4}" font-family="monospace" font-size="11">'
        "<title>blocks per label</title>"
    ]
    for i, (lab, n) in enumerate(counts.items()):
        y = 2 + i * row
        w = 0 if n == 0 else max(2, round(bar_max * n / top))
        colour = LABEL_COLOURS.get(lab, "#000")
        parts.append(
            f'<text x="0" y="{y + 12}" fill="#333">{esc(lab)}</text>'
            f'<rect class="bar" data-label="{esc(lab)}" data-count="{n}" x="{label_w}" '
            f'y="{y + 2}" width="{w}" height="{row - 5}" fill="{colour}" rx="2"></rect>'
            f'<text x="{label_w + w + 4}" y="{y + 12}" fill="#333">{n}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def why_text(label: str, confidence: float, why: Sequence[str], model_label: str | None) -> str:
    """The hover text: model verdict and the top features behind it."""
    head = f"model: {model_label or label} ({confidence:.2f})"
    if why:
        return head + "\ntop features: " + ", ".join(why)
    return head + "\n(no feature pushed towards this label)"


def block_html(
    index: int,
    label: str,
    confidence: float,
    tag: str,
    text: str,
    why: Sequence[str] = (),
    extra_attrs: str = "",
    model_label: str | None = None,
) -> str:
    """One block as a coloured row: label badge, confidence, tag, text, hover features."""
    tip = why_text(label, confidence, why, model_label)
    return (
        f'<div class="blk lab-{esc(label)}" data-i="{index}" data-label="{esc(label)}"'
        f"{extra_attrs}>"
        f'<span class="badge">{esc(label)}</span>'
        f'<span class="conf">{confidence:.2f}</span>'
        f'<span class="tag">&lt;{esc(tag)}&gt;</span>'
        f'<span class="txt">{esc(text)}</span>'
        f'<div class="why">{esc(tip)}</div>'
        "</div>"
    )


@dataclass
class ReportPage:
    """One input of the report: its name and the cleaned page, or why it failed."""

    source: str
    page: Page | None = None
    error: str | None = None


def _page_section(n: int, rp: ReportPage) -> str:
    if rp.page is None:
        return (
            f'<section class="page" id="page-{n}"><h2>{esc(rp.source)}</h2>'
            f'<p class="error">could not read this page: {esc(rp.error)}</p></section>'
        )
    page = rp.page
    blocks = (
        "\n".join(
            block_html(i, b.label, b.confidence, b.tag, b.text, b.why)
            for i, b in enumerate(page.blocks)
        )
        or '<p class="empty">no text blocks</p>'
    )
    article = "\n".join(f"<p>{esc(b.text)}</p>" for b in page.content_blocks)
    if not article:
        article = '<p class="empty">nothing kept</p>'
    flag = ' <span class="flag">paywalled</span>' if page.paywalled else ""
    return (
        f'<section class="page" id="page-{n}">'
        f'<div class="head"><div><h2>{esc(page.title or "(untitled)")}{flag}</h2>'
        f'<div class="src">{esc(rp.source)}</div>'
        f"<div>{len(page.blocks)} blocks, {len(page.content_blocks)} kept</div></div>"
        f"{chart_svg(label_counts(page))}</div>"
        '<div class="cols">'
        f'<div class="blocks"><h3>Blocks in reading order (hover for why)</h3>{blocks}</div>'
        f'<div class="clean"><h3>Cleaned text</h3>{article}</div>'
        "</div></section>"
    )


def _index(pages: Sequence[ReportPage]) -> str:
    rows = []
    for n, rp in enumerate(pages, 1):
        title = rp.page.title if rp.page is not None else "(error)"
        if rp.page is not None:
            counts = label_counts(rp.page)
            cells = "".join(f"<td>{counts[lab]}</td>" for lab in LABELS)
        else:
            cells = f'<td colspan="{len(LABELS)}" class="error">{esc(rp.error)}</td>'
        rows.append(
            f'<tr><td>{n}</td><td><a href="#page-{n}">{esc(title or "(untitled)")}</a></td>'
            f'<td class="src">{esc(rp.source)}</td>{cells}</tr>'
        )
    head = "".join(f'<th class="lab-{lab}"><span class="badge">{lab}</span></th>'
                   for lab in LABELS)  # fmt: skip
    return (
        '<nav><h3>Pages</h3><table class="index"><tr><th>#</th><th>title</th><th>file</th>'
        f"{head}</tr>{''.join(rows)}</table></nav>"
    )


def render_report(pages: Sequence[ReportPage], model_name: str = "") -> str:
    """The whole report as one HTML document (a page index when there are several)."""
    totals = Counter()
    for rp in pages:
        if rp.page is not None:
            totals.update(b.label for b in rp.page.blocks)
    total_counts = {lab: totals.get(lab, 0) for lab in LABELS}
    sections = "\n".join(_page_section(n, rp) for n, rp in enumerate(pages, 1))
    model = f" &middot; model {esc(model_name)}" if model_name else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP_STATIC}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>classifier report</title>"
        f"<style>{BASE_CSS}{REPORT_CSS}</style></head><body>"
        f'<h1>What the model sees</h1><div class="src">{len(pages)} page(s){model}</div>'
        f"{legend_html(total_counts)}"
        f"{_index(pages) if len(pages) > 1 else ''}"
        f"{sections}</body></html>\n"
    )


def build_report(
    sources: Sequence[str], cleaner: Cleaner, read: Callable[[str], bytes]
) -> tuple[list[ReportPage], int]:
    """Clean every source; a page that fails is shown as an error, not fatal."""
    out: list[ReportPage] = []
    failed = 0
    for source in sources:
        try:
            out.append(ReportPage(source, cleaner.clean(read(source))))
        except Exception as exc:  # one bad page must not lose the report
            failed += 1
            out.append(ReportPage(source, error=f"{type(exc).__name__}: {exc}"))
    return out, failed


def write_report(
    sources: Sequence[str], output: Path, cleaner: Cleaner, read: Callable[[str], bytes]
) -> int:
    """Build the report for `sources` into `output`; returns the number of failed pages."""
    pages, failed = build_report(sources, cleaner, read)
    name = str(cleaner.model.card.get("name", "")) if cleaner.model.card else ""
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_report(pages, model_name=name), encoding="utf-8")
    return failed
