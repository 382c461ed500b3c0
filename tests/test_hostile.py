"""Hostile and broken input: every case gives a page or a documented ClassifierError.

The table below is the contract the README documents ("what each input yields"); the
property tests throw generated markup at the cleaner and check it neither raises
outside the hierarchy nor invents or reorders text.
"""

from __future__ import annotations

import codecs
import gzip
import json
import random

import pytest
from conftest import SEED_PAGES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from classifier import Cleaner
from classifier.cli import app
from classifier.errors import (
    ClassifierError,
    InputTooLargeError,
    NotHTMLError,
    PageTimeoutError,
    UnsupportedInputError,
)

ARTICLE = (
    "<html><head><title>Harbour fair</title></head><body><article><h1>Harbour fair opens</h1>"
    + "".join(
        f"<p>Paragraph {i}: the harbour fair drew crowds of visitors to the quay this "
        f"weekend, with boat builders showing their work and local bands playing late.</p>"
        for i in range(6)
    )
    + "</article></body></html>"
)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 4
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + bytes(200)
RANDOM = random.Random(7).randbytes(20_000)

# name -> (input, expected): "text" a page with article text, "empty" a page with an
# empty_reason, or the error class raised
HOSTILE: dict[str, tuple[object, object]] = {
    "empty bytes": (b"", "empty"),
    "empty str": ("", "empty"),
    "whitespace": (b" \n\t\r\n  ", "empty"),
    "png image": (PNG, NotHTMLError),
    "pdf document": (PDF, NotHTMLError),
    "random bytes": (RANDOM, NotHTMLError),
    "nul bytes inside a page": (ARTICLE.replace("harbour", "harbour\x00").encode(), "text"),
    "invalid utf-8": (ARTICLE.encode() + b"\xff\xfe\xc3\x28 broken \xa0", "text"),
    "utf-16 with bom": (ARTICLE.encode("utf-16"), "text"),
    "charset that lies": (
        ARTICLE.replace("<head>", '<head><meta charset="shift_jis">').encode(),
        "text",
    ),
    "non-text codec declared": (
        ARTICLE.replace("<head>", '<head><meta charset="hex">').encode("cp1252"),
        "text",
    ),
    "frameset": (
        b'<html><frameset cols="50%,50%"><frame src="a.html"><frame src="b.html">'
        b"<noframes>Your browser does not support frames.</noframes></frameset></html>",
        "empty",
    ),
    "rss feed": (
        b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Feed'
        b"</title><item><title>One</title><description>The first item of the feed."
        b"</description></item></channel></rss>",
        "page",
    ),
    "svg document": (
        b'<svg xmlns="http://www.w3.org/2000/svg"><title>icon</title><text>A</text></svg>',
        "empty",
    ),
    "js app shell": (
        b'<html><head><script src="app.js"></script></head><body><div id="root"></div>'
        b"<script>window.__STATE__={};</script></body></html>",
        "empty",
    ),
    "plain text": (
        ("A plain text file with no markup at all.\n\n" * 20).encode(),
        "page",
    ),
    "unclosed tags": (ARTICLE.replace("</p>", "").replace("</article>", ""), "text"),
    "invalid numeric entities": (
        ARTICLE.replace("crowds", "crowds &#0; &#xD800; &#99999999999; &#x110000;"),
        "text",
    ),
    "100,000-deep nesting": ("<div>" * 100_000 + ARTICLE + "</div>" * 100_000, "text"),
    "deep nesting, never closed": ("<div><span>" * 50_000 + "lost words", "page"),
    "100,000 siblings": ("<body>" + "<p>a short line</p>" * 100_000 + "</body>", "page"),
    "gzip bomb": (gzip.compress(b" " * 70_000_000), InputTooLargeError),
    "not html at all": (12345, UnsupportedInputError),
}


@pytest.fixture(scope="module")
def cleaner(tiny_model_path) -> Cleaner:
    return Cleaner(model=tiny_model_path)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_gives_a_page_or_a_documented_error(cleaner, name):
    data, expected = HOSTILE[name]
    if isinstance(expected, type):
        with pytest.raises(expected) as info:
            cleaner.clean(data)
        assert isinstance(info.value, ClassifierError)
        assert str(info.value)  # a message a person can read
        return
    page = cleaner.clean(data)
    if expected == "empty":
        assert page.text == ""
        assert page.empty_reason
    elif expected == "text":
        assert "harbour fair drew crowds" in page.text, page.empty_reason
        assert page.text.count("Paragraph 0:") == 1  # no text lost or doubled
        assert page.empty_reason is None
        assert "\x00" not in page.text
    else:  # "page": any text, but a reason whenever it is empty
        assert bool(page.text) != bool(page.empty_reason)


def test_a_20_mb_page_is_cleaned(cleaner):
    para = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 6 + "</p>\n"
    big = "<html><body><article>" + para * (20_000_000 // len(para)) + "</article></body></html>"
    page = Cleaner(model=cleaner.model).clean(big.encode())
    assert len(page.blocks) > 50_000
    assert page.text.count("Lorem ipsum") > 0.5 * 6 * len(page.blocks)  # tiny model


def test_size_limit_is_configurable(cleaner):
    small = Cleaner(model=cleaner.model, max_bytes=1000)
    with pytest.raises(InputTooLargeError, match="limit is 1,000"):
        small.clean(ARTICLE.encode())
    assert small.clean(ARTICLE[:900]).blocks


def test_time_budget_raises_page_timeout(cleaner):
    slow = Cleaner(model=cleaner.model, timeout=0.001)
    with pytest.raises(PageTimeoutError):
        slow.clean("<body>" + "<p>a short line</p>" * 50_000 + "</body>")


def test_empty_keep_set_is_refused(cleaner):
    with pytest.raises(ValueError, match="non-empty"):
        Cleaner(model=cleaner.model, keep=set())


def test_utf16_bom_page_reads_the_same_as_utf8(cleaner):
    data = codecs.BOM_UTF16_LE + ARTICLE.encode("utf-16-le")
    assert cleaner.clean(data).text == cleaner.clean(ARTICLE.encode()).text


# ------------------------------------------------------------------------ the CLI


def test_cli_batch_over_every_hostile_input_gives_one_record_each(tmp_path, tiny_model_path):
    paths = []
    for i, (name, (data, _)) in enumerate(HOSTILE.items()):
        if not isinstance(data, (bytes, str)):
            continue
        path = tmp_path / f"{i:02d}.html"
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "replace"))
        paths.append((name, path))
    paths.append(("missing file", tmp_path / "missing.html"))
    result = CliRunner().invoke(
        app, ["clean", *(str(p) for _, p in paths), "--model", str(tiny_model_path), "-q"]
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["source"] for r in records] == [str(p) for _, p in paths]
    by_name = {name: rec for (name, _), rec in zip(paths, records, strict=True)}
    assert "NotHTMLError" in by_name["png image"]["error"]
    assert "InputTooLargeError" in by_name["gzip bomb"]["error"]
    assert "cannot read" in by_name["missing file"]["error"]
    assert "harbour fair drew crowds" in by_name["100,000-deep nesting"]["text"]
    failed = [r for r in records if "error" in r]
    assert len(failed) == 5  # png, pdf, random bytes, gzip bomb, missing file
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr


def test_cli_single_bad_input_is_one_line_on_stderr(tmp_path, tiny_model_path):
    png = tmp_path / "logo.html"
    png.write_bytes(PNG)
    result = CliRunner().invoke(app, ["clean", str(png), "--model", str(tiny_model_path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.strip().count("\n") == 0
    assert "logo.html" in result.stderr and "PNG" in result.stderr
    debug = CliRunner().invoke(
        app, ["clean", str(png), "--model", str(tiny_model_path), "--debug"]
    )
    assert "Traceback" in debug.stderr


def test_cli_batch_summary_and_jobs(tmp_path, tiny_model_path):
    for i, page in enumerate(SEED_PAGES * 2):
        (tmp_path / f"p{i}.html").write_bytes(page.read_bytes())
    args = ["clean", str(tmp_path), "--model", str(tiny_model_path)]
    one = CliRunner().invoke(app, args)
    two = CliRunner().invoke(app, [*args, "--jobs", "2"])
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout  # same records, same order
    assert f"cleaned {2 * len(SEED_PAGES)} of {2 * len(SEED_PAGES)} inputs, 0 failed" in (
        two.stderr
    )


# ------------------------------------------------------------------------ properties

WORDS = st.sampled_from(
    ["alpha", "beta", "gamma", "delta", "Spende", "café", "&amp;", "<", ">", "&#0;", "\x00"]
)
TAGS = st.sampled_from(
    ["p", "div", "span", "a", "li", "ul", "table", "td", "tr", "h2", "br", "b", "script",
     "section", "article", "nav", "footer", "pre", "svg", "title", "frameset", "body"]
)  # fmt: skip


@st.composite
def markup(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.integers(0, 3))
        if kind == 0:
            parts.append(f"<{draw(TAGS)}{draw(st.sampled_from(['', ' class=x', ' hidden']))}>")
        elif kind == 1:
            parts.append(f"</{draw(TAGS)}>")
        else:
            parts.append(" ".join(draw(st.lists(WORDS, min_size=1, max_size=6))))
    return "".join(parts)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(html=markup())
def test_any_markup_gives_a_page_or_a_classifier_error(cleaner, html):
    try:
        page = cleaner.clean(html)
    except ClassifierError:
        return
    assert all(b.text for b in page.blocks)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(st.sampled_from(["alpha", "beta", "gamma", "delta", "kappa"]),
                      min_size=1, max_size=30),
       tags=st.lists(TAGS, min_size=1, max_size=30))  # fmt: skip
def test_cleaned_text_is_the_pages_own_words_in_order(cleaner, words, tags):
    html = "".join(f"<{t}>{w} " for w, t in zip(words, tags * len(words), strict=False))
    page = Cleaner(model=cleaner.model, keep=set(("content", "boilerplate",
                   "related_links", "donation_appeal", "counter_widget"))).clean(html)  # fmt: skip
    out = page.text.split()
    visible = [w for w, t in zip(words, tags * len(words), strict=False)
               if t not in ("script", "svg", "title")]  # fmt: skip
    it = iter(words)
    assert all(w in it for w in out), "text out of order or invented"
    assert len(out) <= len(visible)
