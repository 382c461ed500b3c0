"""WARC/ARC input: `classifier clean crawl.warc.gz` cleans each HTML response, named by URL.

The archives are written here with warcio's own writer (see integration_helpers); they
hold HTML responses (one gzip content-encoded and chunked, one in ISO-8859-7 declared
only in HTTP), an image, a 404, a request, a metadata and a warcinfo record.
"""

from __future__ import annotations

import json
import sys
from collections import Counter

import pytest
from integration_helpers import (
    GREEK_PAGE,
    GREEK_PARAGRAPH,
    HTML_RESPONSES,
    SEED,
    SEED_APPEAL,
    SEED_PARAGRAPH,
    SKIPPED,
    write_arc,
    write_crawl,
)
from typer.testing import CliRunner

from classifier import Cleaner
from classifier.cli import app
from classifier.integrations import MissingExtra
from classifier.integrations.warc import (
    ArchiveTruncated,
    decode_payload,
    is_warc,
    iter_html_records,
)

pytest.importorskip("warcio")
runner = CliRunner()
URLS = [r.url for r in HTML_RESPONSES]


@pytest.fixture(params=["crawl.warc.gz", "crawl.warc"])
def crawl(request, tmp_path):
    return write_crawl(tmp_path / request.param)


@pytest.fixture(scope="module")
def cleaner(tiny_model_path) -> Cleaner:
    return Cleaner(model=tiny_model_path)


@pytest.fixture(scope="module")
def cli(tiny_model_path):
    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args] + ["--model", str(tiny_model_path)])

    return invoke


def jsonl(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


# ---------------------------------------------------------------------- reader


def test_reader_yields_each_html_response_with_its_url_and_counts_the_rest(crawl):
    skipped: Counter[str] = Counter()
    records = list(iter_html_records(crawl, skipped))
    assert [url for url, _ in records] == URLS
    assert dict(skipped) == SKIPPED


def test_reader_undoes_gzip_content_encoding_and_chunking(crawl):
    records = dict(iter_html_records(crawl))
    assert records[HTML_RESPONSES[0].url] == SEED.read_bytes()
    assert records[HTML_RESPONSES[1].url] == HTML_RESPONSES[1].html  # was gzip + chunked


def test_http_charset_beats_a_wrong_meta_charset(crawl):
    html = dict(iter_html_records(crawl))[HTML_RESPONSES[2].url]
    assert html == GREEK_PAGE  # decoded with ISO-8859-7, not the page's windows-1252


def test_decode_payload_leaves_utf8_and_unknown_charsets_to_the_decoder():
    assert decode_payload("café".encode(), "iso-8859-1") == "café".encode()  # valid UTF-8
    assert decode_payload(b"caf\xe9", "no-such-charset") == b"caf\xe9"
    assert decode_payload(b"caf\xe9 \x93q\x94", "iso-8859-1") == "café “q”"  # as cp1252
    assert decode_payload(b"caf\xe9", None) == b"caf\xe9"


@pytest.mark.parametrize("name", ["old.arc", "old.arc.gz"])
def test_reader_reads_legacy_arc_files(tmp_path, name):
    skipped: Counter[str] = Counter()
    records = list(iter_html_records(write_arc(tmp_path / name), skipped))
    assert [url for url, _ in records] == [HTML_RESPONSES[0].url]
    assert records[0][1] == SEED.read_bytes()
    assert skipped["image/png"] == 1


@pytest.mark.parametrize("name", ["crawl.warc.gz", "crawl.warc"])
def test_a_truncated_archive_is_an_error_after_its_complete_records(tmp_path, name):
    path = write_crawl(tmp_path / name)
    path.write_bytes(path.read_bytes()[:-60])  # cut inside the last (Greek) response
    got = []
    with pytest.raises(ArchiveTruncated, match="ends inside"):
        for url, _ in iter_html_records(path):
            got.append(url)
    assert got == URLS[:2]  # never half a page


def test_is_warc_goes_by_name():
    assert all(map(is_warc, ["a.warc", "b.WARC.GZ", "c.arc", "d.arc.gz", "/x/y.warc.gz"]))
    assert not any(map(is_warc, ["a.html", "a.html.gz", "warc", "a.warc.zst", "-"]))


def test_without_warcio_the_error_names_the_extra(tmp_path, monkeypatch):
    from classifier.integrations import warc

    warc._iterator_class.cache_clear()
    monkeypatch.setitem(sys.modules, "warcio.archiveiterator", None)
    try:
        with pytest.raises(MissingExtra, match=r"pip install 'boilerplate-classifier\[warc\]'"):
            list(iter_html_records(write_arc(tmp_path / "x.arc")))
    finally:
        warc._iterator_class.cache_clear()


# ---------------------------------------------------------------------- CLI


def test_cli_cleans_one_record_per_html_response_named_by_url(cli, crawl, cleaner):
    result = cli("clean", crawl)
    assert result.exit_code == 0, result.output
    rows = jsonl(result.stdout)
    assert [r["source"] for r in rows] == URLS
    assert [r["url"] for r in rows] == URLS
    for row, resp in zip(rows, HTML_RESPONSES, strict=True):
        assert resp.expect in row["text"]
    assert SEED_PARAGRAPH in rows[0]["text"] and SEED_APPEAL not in rows[0]["text"]
    assert rows[0]["text"] == cleaner.clean(SEED.read_bytes()).text
    assert rows[2]["text"].count(GREEK_PARAGRAPH) == 2
    summary = f"{crawl}: 3 HTML responses; skipped 5 records ("
    assert summary in result.stderr
    assert "1 image/png" in result.stderr and "1 HTTP 404" in result.stderr


def test_cli_mixes_archives_and_html_files(cli, tmp_path):
    crawl = write_crawl(tmp_path / "c.warc.gz")
    arc = write_arc(tmp_path / "o.arc.gz")
    result = cli("clean", crawl, SEED, arc, "--format", "text")
    assert result.exit_code == 0, result.output
    rows = jsonl(result.stdout)
    assert [r["source"] for r in rows] == [*URLS, str(SEED), HTML_RESPONSES[0].url]
    assert rows[3]["url"] is None and SEED_PARAGRAPH in rows[3]["text"]
    assert rows[4]["text"] == rows[0]["text"] == rows[3]["text"]


def test_cli_one_file_per_record_with_output(cli, crawl, tmp_path):
    out = tmp_path / "out"
    result = cli("clean", crawl, "--output", out)
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 3 and "nato-talks.txt" in files and "pool.txt" in files
    assert SEED_PARAGRAPH in (out / "nato-talks.txt").read_text(encoding="utf-8")


def test_cli_reports_a_truncated_archive_and_keeps_its_complete_pages(cli, tmp_path):
    crawl = write_crawl(tmp_path / "c.warc.gz")
    crawl.write_bytes(crawl.read_bytes()[:-60])
    result = cli("clean", crawl, SEED)
    assert result.exit_code == 1
    rows = jsonl(result.stdout)
    assert [r["source"] for r in rows] == [*URLS[:2], str(crawl), str(SEED)]
    assert "ends inside" in rows[2]["error"]
    assert f"error: {crawl}: ArchiveTruncated" in result.stderr


def test_cli_reports_a_missing_archive(cli, tmp_path):
    result = cli("clean", tmp_path / "absent.warc.gz", SEED)
    assert result.exit_code == 1
    assert "absent.warc.gz: FileNotFoundError" in result.stderr
    assert jsonl(result.stdout)[1]["source"] == str(SEED)
