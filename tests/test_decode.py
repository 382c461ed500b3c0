"""Decode stage: bytes / str / BeautifulSoup -> lxml tree, never garbling or crashing."""

from __future__ import annotations

import codecs

import pytest
from bs4 import BeautifulSoup

from classifier.decode import DecodeError, declared_encoding, decode_bytes, parse, to_text
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
    assert declared_encoding(b"<meta charset=latin1>") == "iso8859-1"
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
def test_wrong_type_raises_decode_error(bad):
    with pytest.raises(DecodeError, match=type(bad).__name__) as info:
        parse(bad)
    message = str(info.value)
    assert "str" in message and "bytes" in message and "BeautifulSoup" in message
    assert isinstance(info.value, ValueError)  # callers catching ValueError still work
