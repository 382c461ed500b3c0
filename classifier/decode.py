"""Decode stage: whatever a caller hands us (bytes, str, a BeautifulSoup) -> an lxml tree.

Bytes are decoded in the order that is right most often on the real web: a BOM is
authoritative; valid UTF-8 is almost never anything else; then the page's own
declaration (``<meta charset>`` / http-equiv), then a statistical guess. A wrong
declaration therefore never crashes or garbles a UTF-8 page.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

import lxml.html
from lxml import etree

HtmlInput = str | bytes | Any  # Any: a bs4.BeautifulSoup (imported lazily, off the hot path)

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


class DecodeError(ValueError):
    """Raised when the input is not something we can read as HTML."""


def declared_encoding(data: bytes) -> str | None:
    """Return the codec named by the page's meta tag, if Python knows it."""
    match = _META_CHARSET.search(data[:4096])
    if not match:
        return None
    name = match.group(1).decode("ascii", "ignore").lower()
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_bytes(data: bytes) -> str:
    """Turn raw page bytes into text without ever raising on a bad declaration."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = declared_encoding(data)
    # browsers (WHATWG) read latin-1 and ascii labels as windows-1252: 0x80-0x9f are
    # curly quotes and the euro sign on real pages, not control characters
    if declared in ("latin-1", "iso8859-1", "ascii"):
        declared = "cp1252"
    if declared and declared not in ("utf-8", "utf-16", "utf-32"):
        try:
            return data.decode(declared)
        except UnicodeDecodeError:
            pass
    from bs4 import UnicodeDammit  # the detector; only reached for non-UTF-8 pages

    dammit = UnicodeDammit(data, is_html=True)
    if dammit.unicode_markup is not None:
        return dammit.unicode_markup
    return data.decode("cp1252", errors="replace")


def to_text(html: HtmlInput) -> str:
    """Accept str, bytes or a BeautifulSoup and return markup as str."""
    if isinstance(html, str):
        return html
    if isinstance(html, (bytes, bytearray, memoryview)):
        return decode_bytes(bytes(html))
    if hasattr(html, "decode") and hasattr(html, "find_all"):  # bs4 Tag/BeautifulSoup
        return str(html)
    raise DecodeError(
        f"expected HTML as str, bytes or bs4.BeautifulSoup, got {type(html).__name__}"
    )


# huge_tree: without it libxml2 silently drops everything below nesting depth 256
_PARSER = lxml.html.HTMLParser(
    remove_comments=True, remove_pis=True, recover=True, huge_tree=True
)


def parse(html: HtmlInput) -> etree._Element | None:
    """Parse into an lxml tree (~1 ms a page); None for an empty document."""
    text = to_text(html)
    text = _XML_DECL.sub("", text, count=1)  # lxml refuses str input with an encoding decl
    if not text.strip():
        return None
    try:
        return lxml.html.document_fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return None
