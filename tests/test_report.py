"""`classifier report`: the HTML holds every block, coloured by label, escaped, offline.

Checked on the parsed HTML (lxml) so that these tests run without a browser; the
rendering in a real browser is checked in test_browser.py.
"""

from __future__ import annotations

import re
from collections import Counter

import lxml.html
import pytest
from conftest import FIXTURES, SEED_PAGES
from typer.testing import CliRunner

from classifier import Cleaner
from classifier.cli import app
from classifier.model import LABELS
from classifier.report import LABEL_COLOURS, ReportPage, build_report, render_report

runner = CliRunner()

HOSTILE = b"""<!DOCTYPE html><html><head>
<title>Evil &lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title></head><body>
<nav class="menu"><a href="https://evil.example/x">Home</a> <a href="/a">News</a></nav>
<article><h1>A headline with &lt;b onmouseover="x()"&gt; markup in it</h1>
<p>Paragraph one says &lt;script src="https://evil.example/a.js"&gt;&lt;/script&gt; and
"quotes" &amp; 'apostrophes' &lt;img src=x onerror=alert(2)&gt; in plain text, as a
long paragraph that a reader would take for the article body of this page.</p>
<p class="x&quot; onclick=&quot;alert(3)">A second paragraph whose class tries to break
out of an attribute, also long enough to count as a real paragraph of the story.</p>
</article><footer><p>Copyright &lt;/div&gt;&lt;/section&gt; footer</p></footer></body></html>"""


def _read(source: str) -> bytes:
    if source == "hostile":
        return HOSTILE
    with open(source, "rb") as fh:
        return fh.read()


@pytest.fixture(scope="module")
def cleaner(tiny_model_path) -> Cleaner:
    return Cleaner(model=tiny_model_path, explain=True)


def _blocks(doc: lxml.html.HtmlElement, section: int = 1) -> list[lxml.html.HtmlElement]:
    return doc.xpath(f'//section[@id="page-{section}"]//div[contains(@class, "blk")]')


def test_every_block_in_reading_order_with_label_colour_and_confidence(cleaner):
    page = cleaner.clean(SEED_PAGES[0].read_bytes())
    html = render_report([ReportPage(str(SEED_PAGES[0]), page)])
    doc = lxml.html.fromstring(html)
    divs = _blocks(doc)
    assert len(divs) == len(page.blocks) > 20
    for div, b in zip(divs, page.blocks, strict=True):
        assert div.get("data-label") == b.label
        assert f"lab-{b.label}" in div.get("class").split()
        assert div.xpath('string(.//span[@class="badge"])') == b.label
        assert div.xpath('string(.//span[@class="txt"])') == b.text
        assert div.xpath('string(.//span[@class="conf"])') == f"{b.confidence:.2f}"
        why = div.xpath('string(.//div[@class="why"])')
        assert f"({b.confidence:.2f})" in why
        for feature in b.why:  # the explain feature's top features, shown on hover
            assert feature in why
    assert any(b.why for b in page.blocks)
    # each label's colour is defined once in the CSS, on its class
    css = doc.xpath("string(//style)")
    for lab in LABELS:
        assert f".lab-{lab} {{ --c: {LABEL_COLOURS[lab]};" in css


def test_cleaned_text_and_chart_match_the_page(cleaner):
    page = cleaner.clean(SEED_PAGES[0].read_bytes())
    doc = lxml.html.fromstring(render_report([ReportPage("seed", page)]))
    kept = [p.text_content() for p in doc.xpath('//div[@class="clean"]/p')]
    assert kept == [b.text for b in page.content_blocks]
    bars = {r.get("data-label"): int(r.get("data-count")) for r in doc.xpath("//rect")}
    counts = Counter(b.label for b in page.blocks)
    assert bars == {lab: counts.get(lab, 0) for lab in LABELS}
    widths = {r.get("data-label"): int(r.get("width")) for r in doc.xpath("//rect")}
    top = max(counts, key=counts.get)
    assert widths[top] == max(widths.values()) > 0
    assert all((widths[lab] > 0) == (counts.get(lab, 0) > 0) for lab in LABELS)


def test_hostile_page_text_is_escaped_and_nothing_is_fetched(cleaner):
    pages, failed = build_report(["hostile"], cleaner, _read)
    assert failed == 0
    html = render_report(pages)
    doc = lxml.html.fromstring(html)
    assert not doc.xpath("//script | //img | //iframe | //link | //object | //embed")
    assert not [a for el in doc.iter() if isinstance(el.tag, str) for a in el.attrib
                if a.startswith("on")]  # fmt: skip
    # the page's text shows up as text, exactly
    texts = [t.text_content() for t in doc.xpath('//span[@class="txt"]')]
    assert any('<script src="https://evil.example/a.js"></script>' in t for t in texts)
    assert any("<img src=x onerror=alert(2)>" in t for t in texts)
    assert "Evil </title><script>alert(1)</script>" in doc.xpath("string(//h2)")
    # no resource is loaded from anywhere: no src/href to another origin, strict CSP
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert not re.search(r"url\(", html)
    csp = doc.xpath('string(//meta[@http-equiv="Content-Security-Policy"]/@content)')
    assert csp.startswith("default-src 'none'")


def test_several_pages_get_an_index_and_a_failed_page_is_shown(cleaner, tmp_path):
    sources = [str(p) for p in SEED_PAGES] + [str(tmp_path / "missing.html")]
    pages, failed = build_report(sources, cleaner, _read)
    assert failed == 1
    doc = lxml.html.fromstring(render_report(pages))
    links = doc.xpath("//nav//a/@href")
    assert links == [f"#page-{n}" for n in range(1, len(sources) + 1)]
    for n in range(1, len(SEED_PAGES) + 1):
        assert len(_blocks(doc, n)) == len(pages[n - 1].page.blocks)
    assert "missing.html" in doc.xpath(f'string(//section[@id="page-{len(sources)}"])')
    assert doc.xpath('//section//p[@class="error"]')


def test_report_without_index_for_one_page(cleaner):
    pages, _ = build_report([str(SEED_PAGES[1])], cleaner, _read)
    doc = lxml.html.fromstring(render_report(pages))
    assert not doc.xpath("//nav")


# ------------------------------------------------------------------------ CLI


def test_cli_report_writes_one_file(tmp_path, tiny_model_path):
    out = tmp_path / "sub" / "report.html"
    result = runner.invoke(app, ["report", str(FIXTURES), "-o", str(out),
                                 "--model", str(tiny_model_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = lxml.html.fromstring(out.read_text(encoding="utf-8"))
    assert len(doc.xpath('//section[@class="page"]')) == len(SEED_PAGES)
    assert "wrote" in result.stderr


def test_cli_report_exit_codes(tmp_path, tiny_model_path):
    out = tmp_path / "r.html"
    bad = runner.invoke(app, ["report", str(SEED_PAGES[0]), str(tmp_path / "nope.html"),
                              "-o", str(out), "--model", str(tiny_model_path)])  # fmt: skip
    assert bad.exit_code == 1
    assert out.is_file()  # the good page is still reported
    (tmp_path / "empty").mkdir()
    none = runner.invoke(app, ["report", str(tmp_path / "empty"), "-o", str(out),
                               "--model", str(tiny_model_path)])  # fmt: skip
    assert none.exit_code == 2
