"""Decode stage: whatever a caller hands us (bytes, str, a BeautifulSoup) -> an lxml tree.

Bytes are decoded in the order that is right most often on the real web: a BOM is
authoritative; valid UTF-8 is almost never anything else; then the page's own
declaration (``<meta charset>`` / http-equiv), then a statistical guess. A wrong
declaration therefore never crashes or garbles a UTF-8 page. Binary data (images, PDFs,
archives, random bytes) is refused with `NotHTMLError` instead of being "decoded" into
mojibake that would come out as article text.
"""

from __future__ import annotations

import codecs
import re
import zlib
from typing import Any

from lxml import etree

from .errors import InputTooLargeError, NotHTMLError, UnsupportedInputError

HtmlInput = str | bytes | Any  # Any: a bs4.BeautifulSoup (imported lazily, off the hot path)

DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # generous: the largest real pages are ~20 MB

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Leading bytes of formats that are served as text/html often enough to matter.
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or office document)"),
    (b"\x7fELF", "an executable"),
    (b"\x00\x00\x01\x00", "an icon"),
    (b"OggS", "an Ogg media file"),
    (b"ID3", "an MP3 file"),
    (b"wOFF", "a web font"),
    (b"wOF2", "a web font"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ", "an xz archive"),
    (b"7z\xbc\xaf", "a 7-zip archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
)
_WEBP = re.compile(rb"^RIFF....(WEBP|WAVE|AVI )", re.S)
# C0 controls that never occur in text (tab, newline, form feed and CR are fine)
_CONTROL_BYTES = bytes(c for c in range(32) if c not in (9, 10, 12, 13)) + b"\x7f"
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ud800-\udfff]")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_:.\-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
# Labels a page may declare but that browsers read as UTF-8 (WHATWG: a document that
# was really UTF-16 would have a BOM), and labels browsers read as windows-1252.
_AS_UTF8 = {"utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}
_AS_CP1252 = {"latin-1", "iso8859-1", "ascii", "cp1252"}


def _declared_label(data: bytes) -> str | None:
    """The charset label of the page's meta tag, lower-cased, as written."""
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii", "ignore").lower() if match else None


def declared_encoding(data: bytes) -> str | None:
    """Return the text codec named by the page's meta tag, if Python knows it.

    Only text encodings count: ``codecs.lookup`` also knows hex, rot13, zlib and base64,
    which a hostile page may "declare".
    """
    name = _declared_label(data)
    if name is None:
        return None
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None
    if info.name in _AS_UTF8:
        return "utf-8"
    return "cp1252" if info.name in _AS_CP1252 else info.name


def sniff_binary(data: bytes) -> str | None:
    """Name the binary format `data` is in, or None if it may be text."""
    head = data[:4096]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if _WEBP.match(head):
        return "a RIFF media file"
    stripped = head.lstrip()
    if not stripped:
        return None
    controls = len(stripped) - len(stripped.translate(None, _CONTROL_BYTES))
    if controls > max(8, len(stripped) // 20):
        return "binary data"
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 markup without a BOM still starts with an ASCII '<' next to a zero byte."""
    stripped = head[:64]
    if len(stripped) >= 8 and stripped[1::2].count(0) == len(stripped[1::2]):
        return "utf-16-le"
    if len(stripped) >= 8 and stripped[0::2].count(0) == len(stripped[0::2]):
        return "utf-16-be"
    return None


def gunzip(data: bytes, max_bytes: int) -> bytes:
    """Inflate a gzip body, refusing one that inflates beyond `max_bytes` (a gzip bomb)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise NotHTMLError(f"damaged gzip data: {exc}") from exc
    if len(out) > max_bytes:
        raise InputTooLargeError(f"input inflates to more than {max_bytes:,} bytes")
    return out


def decode_bytes(data: bytes) -> str:
    """Turn raw page bytes into text without ever raising on a bad declaration."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    utf16 = _utf16_without_bom(data)
    if utf16:
        return data.decode(utf16, errors="replace")
    declared = declared_encoding(data)
    if _declared_label(data) in ("utf-8", "utf8"):
        # a UTF-8 page with a few broken bytes: decode as browsers do (U+FFFD), rather
        # than ask the detector, which takes up to 100 ms on a large page
        text = data.decode("utf-8", errors="replace")
        if text.count("\ufffd") <= max(8, len(data) // 1000):
            return text
    if declared and declared != "utf-8":
        try:
            return data.decode(declared)
        except (UnicodeError, LookupError):
            pass
    from bs4 import UnicodeDammit  # the detector; only reached for non-UTF-8 pages

    dammit = UnicodeDammit(data, is_html=True, exclude_encodings=sorted(_AS_UTF8))
    if dammit.unicode_markup is not None:
        return dammit.unicode_markup
    return data.decode("cp1252", errors="replace")


def to_markup(html: HtmlInput, max_bytes: int = DEFAULT_MAX_BYTES) -> str | bytes:
    """The decode stage: whatever we were given -> markup ready for the parser.

    Valid UTF-8 (most of the web) stays bytes, which libxml2 reads faster than a Python
    str; anything else is decoded to str. NULs and other C0 controls, which libxml2
    refuses, are dropped. Raises `InputTooLargeError` beyond `max_bytes` (characters
    for str input), `NotHTMLError` for binary data and `UnsupportedInputError` for
    other types.
    """
    if isinstance(html, (bytes, bytearray, memoryview)):
        data = bytes(html)
        if len(data) > max_bytes:
            raise InputTooLargeError(f"input is {len(data):,} bytes; the limit is {max_bytes:,}")
        if data[:2] == b"\x1f\x8b":
            data = gunzip(data, max_bytes)
        if not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not (
            _utf16_without_bom(data)
        ):
            what = sniff_binary(data)
            if what:
                raise NotHTMLError(f"input is {what}, not HTML")
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return _without_controls(decode_bytes(data))
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return _without_controls(decode_bytes(data))
        # in UTF-8 a byte below 0x20 is always that character: delete them as bytes
        stripped = data.translate(None, _CONTROL_BYTES)
        return stripped
    if isinstance(html, str):
        if len(html) > max_bytes:
            raise InputTooLargeError(
                f"input is {len(html):,} characters; the limit is {max_bytes:,}"
            )
        return _without_controls(html)
    if hasattr(html, "decode") and hasattr(html, "find_all"):  # bs4 Tag/BeautifulSoup
        return _without_controls(str(html))
    raise UnsupportedInputError(
        f"expected HTML as str, bytes or bs4.BeautifulSoup, got {type(html).__name__}"
    )


def _without_controls(text: str) -> str:
    """libxml2 refuses NULs, C0 controls and lone surrogates in a str."""
    return _CONTROL_CHARS.sub("", text) if _CONTROL_CHARS.search(text) else text


def to_text(html: HtmlInput, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """Accept str, bytes or a BeautifulSoup and return the markup as str (see to_markup)."""
    markup = to_markup(html, max_bytes)
    return markup.decode("utf-8") if isinstance(markup, bytes) else markup


# huge_tree: without it libxml2 silently drops everything below nesting depth 256.
# Plain etree parsers, not lxml.html's: its per-element class lookup costs ~10% of
# segmentation and we use none of the HtmlElement methods.
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, recover=True, huge_tree=True)
# for validated UTF-8 bytes: the given encoding overrides any <meta charset> or XML decl
_UTF8_PARSER = etree.HTMLParser(
    remove_comments=True, remove_pis=True, recover=True, huge_tree=True, encoding="utf-8"
)
_TAG = re.compile(r"<(/?)([a-zA-Z][^\s/>]*)[^>]*>")
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
     "source", "track", "wbr"}
)  # fmt: skip
_RAW = frozenset({"script", "style", "noscript", "template", "textarea", "title"})
_MAX_NESTING = 1000  # libxml2 gives up on the whole document beyond 2048 levels


def flatten_deep_markup(text: str, limit: int = _MAX_NESTING) -> str:
    """Drop the tags nested deeper than `limit`, keeping their text.

    Only used when libxml2 refused a document for its depth: a page with 100,000
    nested <div>s still has words a reader can see.
    """
    out: list[str] = []
    depth = 0
    last = 0
    for m in _TAG.finditer(text):
        closing, name = m.group(1), m.group(2).lower()
        if name in _VOID or name in _RAW or m.group(0).endswith("/>"):
            continue  # kept: raw-text elements must stay so their code is not read
        if closing:
            depth = max(depth - 1, 0)
            drop = depth >= limit
        else:
            drop = depth >= limit
            depth += 1
        if drop:
            out.append(text[last : m.start()])
            out.append(" ")
            last = m.end()
    out.append(text[last:])
    return "".join(out)


def _too_deep(parser: etree.HTMLParser) -> bool:
    return any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)


def parse_markup(markup: str | bytes) -> etree._Element | None:
    """The parse stage: markup from `to_markup` -> an lxml tree; None if there is none."""
    if not markup or markup.isspace():
        return None
    if isinstance(markup, bytes):
        parser = _UTF8_PARSER
    else:
        parser = _PARSER
        markup = _XML_DECL.sub("", markup, count=1)  # lxml refuses a str with an encoding decl
    try:
        root = etree.fromstring(markup, parser=parser)
        if root is not None and _too_deep(parser):
            text = markup.decode("utf-8") if isinstance(markup, bytes) else markup
            text = _XML_DECL.sub("", text, count=1)
            root = etree.fromstring(flatten_deep_markup(text), parser=_PARSER)
        return root
    except (etree.LxmlError, ValueError):
        return None


def parse(html: HtmlInput, max_bytes: int = DEFAULT_MAX_BYTES) -> etree._Element | None:
    """Decode (see `to_markup`) and parse; None for a document with no markup to read."""
    return parse_markup(to_markup(html, max_bytes))
