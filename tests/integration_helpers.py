"""A small crawl written for these tests: WARC/ARC files with HTML and non-HTML records.

Pages are the repo's own (the seed WordPress fixture, the tiny corpus pages of
conftest) plus one Greek page served as ISO-8859-7; nothing is read from ../shared.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from pathlib import Path

from conftest import FIXTURES, TINY_ARTICLES, tiny_page

SEED = FIXTURES / "seed_wordpress.html"
SEED_PARAGRAPH = "NATO ambassadors and Ukrainian representatives met in Brussels"
SEED_APPEAL = "Become a Patron"
GREEK_PARAGRAPH = (
    "Το δημοτικό συμβούλιο αποφάσισε την Τρίτη να ανοίξει ξανά το παλιό κολυμβητήριο "
    "της πόλης, που έμεινε κλειστό τέσσερα χρόνια μετά από μια καταιγίδα."
)
GREEK_PAGE = (
    "<!DOCTYPE html><html><head><meta charset='windows-1252'>"  # wrong; HTTP wins
    "<title>Κολυμβητήριο</title></head><body>"
    "<nav><a href='/'>Αρχική</a> <a href='/news'>Ειδήσεις</a></nav>"
    f"<article><h1>Κολυμβητήριο</h1><p>{GREEK_PARAGRAPH}</p>"
    f"<p>{GREEK_PARAGRAPH}</p></article></body></html>"
)


@dataclass
class Html:
    """One HTML response of the test crawl, as a reader should yield it."""

    url: str
    html: bytes  # the page as served, before any transfer/content encoding
    expect: str  # a sentence its cleaned text must contain


HTML_RESPONSES = [
    Html("https://news.example.org/nato-talks", SEED.read_bytes(), SEED_PARAGRAPH),
    Html("https://daily.example.com/news/baths?id=7", tiny_page("a").encode(),
         TINY_ARTICLES["a"][0]),  # fmt: skip
    Html("https://kathimerini.example.gr/pool", GREEK_PAGE.encode("iso-8859-7"),
         GREEK_PARAGRAPH),  # fmt: skip
]
# what the readers must skip, by reason
SKIPPED = {"warcinfo": 1, "request": 1, "metadata": 1, "image/png": 1, "HTTP 404": 1}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def _chunked(data: bytes, size: int = 700) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(data[i : i + size]), data[i : i + size])
             for i in range(0, len(data), size)]  # fmt: skip
    return b"".join(parts) + b"0\r\n\r\n"


def write_crawl(path: Path) -> Path:
    """A WARC (gzipped per record if the name ends .gz) holding the records above.

    The second page is stored gzip content-encoded and chunked, as a crawler that keeps
    the raw transfer would record it; the Greek page declares its charset in HTTP only.
    """
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    def http(status: str, headers: list[tuple[str, str]]) -> StatusAndHeaders:
        return StatusAndHeaders(status, headers, protocol="HTTP/1.1")

    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=path.name.endswith(".gz"))
        w.write_record(w.create_warcinfo_record(path.name, {"software": "tests"}))
        seed, tiny, greek = HTML_RESPONSES
        req = StatusAndHeaders("GET /nato-talks HTTP/1.1", [("Host", "news.example.org")],
                               is_http_request=True)  # fmt: skip
        w.write_record(w.create_warc_record(seed.url, "request", payload=io.BytesIO(b""),
                                            http_headers=req))  # fmt: skip
        w.write_record(w.create_warc_record(
            seed.url, "response", payload=io.BytesIO(seed.html),
            http_headers=http("200 OK", [("Content-Type", "text/html; charset=UTF-8")])))
        w.write_record(w.create_warc_record(
            seed.url, "metadata", payload=io.BytesIO(b"outlinks: https://news.example.org/"),
            warc_content_type="application/warc-fields"))
        w.write_record(w.create_warc_record(
            "https://news.example.org/logo.png", "response", payload=io.BytesIO(PNG),
            http_headers=http("200 OK", [("Content-Type", "image/png")])))
        body = _chunked(gzip.compress(tiny.html))
        w.write_record(w.create_warc_record(
            tiny.url, "response", payload=io.BytesIO(body),
            http_headers=http("200 OK", [("Content-Type", "text/html"),
                                         ("Content-Encoding", "gzip"),
                                         ("Transfer-Encoding", "chunked")])))
        w.write_record(w.create_warc_record(
            "https://news.example.org/missing", "response",
            payload=io.BytesIO(b"<html><body><p>Not found</p></body></html>"),
            http_headers=http("404 Not Found", [("Content-Type", "text/html")])))
        w.write_record(w.create_warc_record(
            greek.url, "response", payload=io.BytesIO(greek.html),
            http_headers=http("200 OK", [("Content-Type", "text/html; charset=ISO-8859-7")])))
    return path


def write_arc(path: Path) -> Path:
    """A legacy ARC (v1) file with the seed page and an image, gzipped per record if .gz."""
    version = b"1 0 tests\nURL IP-address Archive-date Content-type Archive-length\n"
    records = [b"filedesc://%s 0.0.0.0 20250101000000 text/plain %d\n%s\n"
               % (path.name.encode(), len(version), version)]  # fmt: skip
    for url, mime, body in (
        (HTML_RESPONSES[0].url, "text/html", HTML_RESPONSES[0].html),
        ("https://news.example.org/logo.png", "image/png", PNG),
    ):
        block = (b"HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
                 % (mime.encode(), len(body))) + body  # fmt: skip
        records.append(b"%s 192.0.2.1 20250101000000 %s %d\n%s\n"
                       % (url.encode(), mime.encode(), len(block), block))  # fmt: skip
    if path.name.endswith(".gz"):
        records = [gzip.compress(r) for r in records]
    path.write_bytes(b"".join(records))
    return path
