"""End-to-end checks on the project's seed article, written out in three page markups.

Each fixture holds the same story (headline, paragraphs, a blockquote) wrapped in a
realistic page: a "Related:" box, a Patreon-style donation appeal, an "Original Source"
line, a "(Visited 1 times, 1 visits today)" counter and an "About The Author" box.
Only the public API is used.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from classifier import Cleaner, clean

FIXTURES = Path(__file__).parent / "fixtures"
SEED_PAGES = ["seed_wordpress.html", "seed_tables.html", "seed_modern.html"]
LABELS = {"content", "donation_appeal", "related_links", "counter_widget", "boilerplate"}

# The seed article itself: headline first, then its paragraphs (the blockquote is one).
ARTICLE = (FIXTURES / "seed_article.txt").read_text(encoding="utf-8").strip().split("\n\n")
HEADLINE = ARTICLE[0]
QUOTE = next(p for p in ARTICLE if p.startswith("I cannot imagine"))

# The three (invented) headlines every fixture lists under "Related:".
RELATED_HEADLINES = [
    "Ukraine’s air-defense gaps: what the Dnipro strike revealed",
    "Explainer: how the NATO-Ukraine Council actually works",
    "Volunteers in Dnipro rebuild a school roof before the first frost",
]

# Strings that must never reach the cleaned text.
DROPPED = [
    "You could close this page",
    "Become a Patron",
    "Related:",
    "Visited 1 times",
    "About The Author",
    "Original Source",
]

# (substring of a block's text, the label every block containing it must get)
EXPECTED_LABELS = [
    ("You could close this page", "donation_appeal"),
    ("We keep our reporting open", "donation_appeal"),
    ("A little bit goes a long way", "donation_appeal"),
    ("Become a Patron", "donation_appeal"),
    ("(Visited 1 times, 1 visits today)", "counter_widget"),
    ("Related:", "related_links"),
    *((headline, "related_links") for headline in RELATED_HEADLINES),
    ("About The Author", "boilerplate"),
    ("Original Source", "boilerplate"),
]

_META_CHARSET = re.compile(r"<meta[^>]*charset[^>]*>", re.I)


def normalise(text: str) -> str:
    """Collapse every run of whitespace to one space."""
    return " ".join(text.split())


@functools.cache
def load(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@functools.cache
def cleaned(name: str):
    """The page as cleaned from its str form; the reference for the other input kinds."""
    return clean(load(name))


def with_charset(html: str, charset: str | None) -> str:
    """Re-declare the page's charset, or drop the declaration when `charset` is None."""
    assert _META_CHARSET.search(html), "fixture must declare its charset"
    meta = f'<meta charset="{charset}">' if charset else ""
    return _META_CHARSET.sub(meta, html, count=1)


def blocks_containing(page, needle: str) -> list:
    return [b for b in page.blocks if needle in normalise(b.text)]


# Known misses of the shipped model, tracked openly rather than hidden. strict=True: a
# model that fixes one makes its test fail until the entry is removed. (Empty since the
# run-filling step: the two seed_tables appeal paragraphs between "You could close this
# page..." and "Become a Patron!" now join the appeal.)
KNOWN_MISSES: set[tuple[str, str]] = set()


def expect_known_miss(request, name: str, needle: str) -> None:
    if (name, needle) in KNOWN_MISSES:
        request.applymarker(
            pytest.mark.xfail(strict=True, reason="known miss of the shipped model")
        )


@pytest.fixture(params=SEED_PAGES)
def name(request) -> str:
    return request.param


def test_article_text_is_kept(name):
    text = normalise(cleaned(name).text)
    missing = [p[:50] for p in ARTICLE if normalise(p) not in text]
    assert not missing, f"article paragraphs missing from page.text: {missing}"


@pytest.mark.parametrize("needle", DROPPED)
def test_non_article_text_is_dropped(request, name, needle):
    expect_known_miss(request, name, needle)
    assert needle not in cleaned(name).text


@pytest.mark.parametrize(("needle", "label"), EXPECTED_LABELS)
def test_block_labels(request, name, needle, label):
    expect_known_miss(request, name, needle)
    blocks = blocks_containing(cleaned(name), needle)
    assert blocks, f"no block contains {needle!r}"
    wrong = [(b.label, b.text[:60]) for b in blocks if b.label != label]
    assert not wrong, f"{needle!r} should be {label}, got {wrong}"


def test_blocks_are_well_formed(name):
    page = cleaned(name)
    assert page.blocks
    for block in page.blocks:
        assert block.label in LABELS
        assert 0.0 <= block.confidence <= 1.0
        assert block.tag and block.xpath.startswith("/")


def test_title(name):
    assert HEADLINE in normalise(cleaned(name).title)


@pytest.mark.parametrize(
    ("declared", "codec"),
    [
        ("utf-8", "utf-8"),
        (None, "utf-8"),
        ("windows-1252", "windows-1252"),
        ("iso-8859-1", "iso-8859-1"),  # characters outside latin-1 become &#NNNN;
    ],
)
def test_bytes_input_matches_str_input(name, declared, codec):
    html = with_charset(load(name), declared)
    data = html.encode(codec, errors="xmlcharrefreplace")
    if codec != "utf-8":
        assert data != html.encode("utf-8"), "fixture should exercise the declared codec"
    assert clean(data).text == cleaned(name).text


def test_beautifulsoup_input_matches_str_input(name):
    soup = BeautifulSoup(load(name), "lxml")
    assert clean(soup).text == cleaned(name).text


def test_cleaner_is_reusable():
    cleaner = Cleaner()
    for page_name in SEED_PAGES * 2:
        assert cleaner.clean(load(page_name)).text == cleaned(page_name).text


def test_markdown_has_headline_and_quote(name):
    lines = [normalise(line) for line in cleaned(name).to_markdown().splitlines()]
    assert f"# {HEADLINE}" in lines
    assert any(line.startswith(">") and normalise(QUOTE) in line for line in lines)


def test_html_output_holds_only_the_article(name):
    out = cleaned(name).to_html()
    assert "Oreshnik" in out
    assert "Become a Patron" not in out


def test_dict_is_json_serialisable(name):
    page = cleaned(name)
    data = json.loads(json.dumps(page.to_dict()))
    assert data["title"] == page.title
    assert data["text"] == page.text
    assert len(data["blocks"]) == len(page.blocks)
    assert {b["label"] for b in data["blocks"]} <= LABELS
