"""Decode stage: bytes / str / BeautifulSoup -> lxml tree, never garbling or crashing."""

from __future__ import annotations

import codecs
import gzip

import pytest
from bs4 import BeautifulSoup

from classifier.decode import declared_encoding, decode_bytes, parse, to_text
from classifier.errors import InputTooLargeError, NotHTMLError, UnsupportedInputError
from classifier.segment import segment

CAFE = "Caf\u00e9 cr\u00e8me \u2014 \u201cna\u00efve\u201d"  # é è — “ ï ”


def texts(html) -> list[str]:
    return [b.text for b in segment(parse(html))]


def page(body: str, head: str = "") -> str:
    return f"<html><head>{head}</head><body><p>{body}</p></body></html>"


# ------------------------------------------------------------------------ BOMs


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_bom_decides_the_encoding(bom, codec):
    data = bom + page(CAFE).encode(codec)
    text = decode_bytes(data)
    assert not text.startswith("\ufeff"), "the BOM must be stripped"
    assert texts(data) == [CAFE]


def test_bom_beats_a_contradicting_meta():
    data = codecs.BOM_UTF8 + page(CAFE, '<meta charset="windows-1252">').encode("utf-8")
    assert texts(data) == [CAFE]


def test_utf16_with_python_default_bom():
    assert texts(page(CAFE).encode("utf-16")) == [CAFE]


# ------------------------------------------------------------------------ declarations


def test_valid_utf8_wins_over_a_wrong_latin1_meta():
    data = page(CAFE, '<meta charset="iso-8859-1">').encode("utf-8")
    assert texts(data) == [CAFE]


def test_windows_1252_bytes_with_correct_meta():
    body = "\u201cHello\u201d \u20ac5 caf\u00e9"  # “Hello” €5 café: bytes 0x93 0x94 0x80 0xe9
    data = page(body, '<meta charset="windows-1252">').encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # so the declaration path is really taken
    assert texts(data) == [body]


def test_windows_1252_declared_via_http_equiv():
    head = '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
    data = page("caf\u00e9 \u20ac", head).encode("cp1252")
    assert declared_encoding(data) == "cp1252"
    assert texts(data) == ["caf\u00e9 \u20ac"]


def test_declared_encoding_names():
    assert declared_encoding(b'<meta charset="UTF-8">') == "utf-8"
    # browsers read a latin-1 label as windows-1252 (0x80-0x9f are quotes and the euro)
    assert declared_encoding(b"<meta charset=latin1>") == "cp1252"
    assert declared_encoding(b'<meta charset="x-no-such-codec">') is None
    assert declared_encoding(b"<p>no declaration</p>") is None


def test_iso_8859_1_label_means_windows_1252():
    data = b'<html><head><meta charset="iso-8859-1"></head><body><p>\x93Hello\x94 \x80 caf\xe9</p>'
    assert texts(data) == ["\u201cHello\u201d \u20ac caf\u00e9"]


def test_unknown_declared_charset_falls_back_without_crashing():
    data = page("plain words caf\u00e9", '<meta charset="x-no-such-codec">').encode("cp1252")
    [text] = texts(data)
    assert text.startswith("plain words caf")


def test_windows_1252_without_declaration_uses_the_detector():
    body = "Plain ASCII words stay intact \u201cquoted\u201d and caf\u00e9 too."
    data = page(body).encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert declared_encoding(data) is None
    text = decode_bytes(data)
    assert "Plain ASCII words stay intact" in text
    assert "and caf" in text and "too." in text
    [block] = texts(data)
    assert block.startswith("Plain ASCII words stay intact")


# ------------------------------------------------------------------------ str input


def test_xml_declaration_on_str_input_parses():
    html = '<?xml version="1.0" encoding="utf-8"?>\n' + page("after an xml declaration")
    assert texts(html) == ["after an xml declaration"]


def test_xml_declaration_with_leading_whitespace_and_bom():
    html = '\ufeff  <?xml version="1.0" encoding="UTF-8"?>' + page("with a BOM char")
    assert texts(html) == ["with a BOM char"]


def test_xml_declaration_in_bytes_input():
    data = b'<?xml version="1.0" encoding="windows-1252"?>' + page("caf\u00e9").encode("cp1252")
    assert texts(data) == ["caf\u00e9"]


def test_str_input_is_returned_unchanged_by_to_text():
    html = page(CAFE)
    assert to_text(html) is html


# ------------------------------------------------------------------------ empty input


@pytest.mark.parametrize(
    "empty", ["", "   \n\t ", b"", b"  \r\n", codecs.BOM_UTF8, '<?xml version="1.0"?>  ']
)
def test_empty_input_parses_to_none(empty):
    assert parse(empty) is None
    assert segment(parse(empty)) == []


def test_segment_of_nothing_is_an_empty_list():
    assert segment(None) == []


# ------------------------------------------------------------------------ other inputs


@pytest.mark.parametrize("parser", ["html.parser", "lxml"])
def test_beautifulsoup_input(parser):
    soup = BeautifulSoup(page(CAFE, "<title>Soup</title>"), parser)
    root = parse(soup)
    assert root is not None
    assert root.findtext(".//title") == "Soup"
    assert texts(soup) == [CAFE]


def test_beautifulsoup_tag_input():
    soup = BeautifulSoup("<div><p>inside the tag</p></div><p>outside</p>", "html.parser")
    assert texts(soup.div) == ["inside the tag"]


@pytest.mark.parametrize("wrap", [bytearray, memoryview])
def test_bytes_like_input(wrap):
    assert texts(wrap(page(CAFE).encode("utf-8"))) == [CAFE]


@pytest.mark.parametrize("bad", [42, None, 3.5, ["<p>x</p>"]])
def test_wrong_type_raises_unsupported_input_error(bad):
    with pytest.raises(UnsupportedInputError, match=type(bad).__name__) as info:
        parse(bad)
    message = str(info.value)
    assert "str" in message and "bytes" in message and "BeautifulSoup" in message
    assert isinstance(info.value, ValueError)  # callers catching ValueError still work


# ------------------------------------------------------------------------ hostile bytes


@pytest.mark.parametrize("codec", ["hex", "rot13", "base64", "zlib", "bz2", "uu", "quopri"])
def test_a_declared_non_text_codec_is_ignored(codec):
    data = page("caf\u00e9 au lait", f'<meta charset="{codec}">').encode("cp1252")
    assert declared_encoding(data) is None
    [text] = texts(data)  # the detector decides the one accented letter
    assert text.startswith("caf") and text.endswith(" au lait")


@pytest.mark.parametrize("label", ["utf-16", "UTF-16LE", "utf-16be", "utf-32"])
def test_a_declared_utf16_without_bom_is_read_as_utf8(label):
    # WHATWG: a real UTF-16 document has a BOM; the label on an 8-bit page is a lie
    data = page(CAFE, f'<meta charset="{label}">').encode("utf-8")
    assert texts(data) == [CAFE]
    latin = page("caf\u00e9", f'<meta charset="{label}">').encode("cp1252")
    assert texts(latin) == ["caf\u00e9"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_recognised(codec):
    assert texts(page(CAFE).encode(codec)) == [CAFE]


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "PNG"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj", "PDF"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP"),
        (bytes((i * 7919) % 256 for i in range(5000)), "binary"),
    ],
)
def test_binary_input_is_refused(data, what):
    with pytest.raises(NotHTMLError, match=what):
        parse(data)


def test_nul_bytes_in_text_are_dropped_not_fatal():
    assert texts(b"<p>one\x00 two</p>") == ["one two"]
    assert texts("<p>one\x00 two\ud800</p>") == ["one two"]


def test_gzip_bytes_are_inflated_and_a_bomb_is_refused():
    data = gzip.compress(page(CAFE).encode("utf-8"))
    assert texts(data) == [CAFE]
    bomb = gzip.compress(b"<p>" + b"a" * 2_000_000 + b"</p>")
    with pytest.raises(InputTooLargeError, match="inflates"):
        parse(bomb, max_bytes=1_000_000)


def test_input_over_the_limit_is_refused():
    with pytest.raises(InputTooLargeError, match="limit is 100"):
        parse(b"<p>" + b"x" * 200 + b"</p>", max_bytes=100)
    with pytest.raises(InputTooLargeError):
        parse("<p>" + "x" * 200 + "</p>", max_bytes=100)


def test_a_utf8_page_with_a_few_broken_bytes_is_read_as_utf8():
    """As browsers do, and without the (slow) detector: the rest of the page is intact."""
    body = CAFE + " " + "Plain words fill the page. " * 200
    data = page(body, '<meta charset="utf-8">').encode("utf-8").replace(b"Plain", b"Pl\xffin", 2)
    [text] = texts(data)
    assert text.startswith(CAFE)
    assert text.count("\ufffd") == 2
