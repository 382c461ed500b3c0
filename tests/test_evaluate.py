"""Tests for the evaluation stage; every expected number is worked out by hand in comments."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest

from classifier import evaluate
from classifier.evaluate import (
    CorpusReport,
    evaluate_corpus,
    load_gold,
    read_page,
    shingle_counts,
    shingle_scores,
    snippet_counts,
    snippet_scores,
    trafilatura_extractor,
)

SHARED_CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


# --------------------------------------------------------------------------- shingle_counts


def test_identical_texts_are_all_true_positives() -> None:
    # 5 tokens -> shingles (a b c d), (b c d e): both matched -> tp 2 of 2.
    assert shingle_counts("a b c d e", "a b c d e") == (1.0, 0.0, 0.0)


def test_disjoint_texts() -> None:
    # one shingle each, different: fp 1, fn 1, normalised by 2.
    assert shingle_counts("a b c d", "w x y z") == (0.0, 0.5, 0.5)


def test_partial_overlap() -> None:
    # pred: (x a b c) (a b c d) (b c d e); gold: (a b c d) (b c d e) (c d e f)
    # tp 2, fp 1, fn 1 -> / 4
    assert shingle_counts("x a b c d e", "a b c d e f") == (0.5, 0.25, 0.25)


def test_repeated_shingles_count_as_a_multiset() -> None:
    # gold "a b c d a b c d": (abcd) x2, (bcda), (cdab), (dabc) = 5 shingles.
    # pred "a b c d": (abcd) x1 -> tp = min(1, 2) = 1, fp 0, fn = 1 + 3 = 4 -> / 5
    assert shingle_counts("a b c d", "a b c d a b c d") == pytest.approx((0.2, 0.0, 0.8))
    # the other way round the excess copy and the three others are false positives
    assert shingle_counts("a b c d a b c d", "a b c d") == pytest.approx((0.2, 0.8, 0.0))


def test_texts_shorter_than_a_shingle_give_one_short_shingle() -> None:
    # 3 tokens -> the single shingle (a b c), equal on both sides
    assert shingle_counts("a b c", "a b c") == (1.0, 0.0, 0.0)
    # (a b c) is not (a b c d): a short text never partially matches a longer one
    assert shingle_counts("a b c", "a b c d") == (0.0, 0.5, 0.5)
    assert shingle_counts("a", "a") == (1.0, 0.0, 0.0)


def test_empty_prediction_and_empty_gold() -> None:
    # gold has 2 shingles, pred none -> fn 2 of 2
    assert shingle_counts("", "a b c d e") == (0.0, 0.0, 1.0)
    # punctuation only has no \w token, so it is empty too
    assert shingle_counts("!? -- ...", "a b c d e") == (0.0, 0.0, 1.0)
    assert shingle_counts("a b c d e", "") == (0.0, 1.0, 0.0)
    # nothing on either side: left unnormalised at zero
    assert shingle_counts("", "") == (0.0, 0.0, 0.0)


def test_tokens_are_word_runs_and_keep_case() -> None:
    # punctuation and whitespace only separate tokens
    assert shingle_counts("a, b.\n c; (d)", "a b c d") == (1.0, 0.0, 0.0)
    # \w is Unicode-aware: "für" and "Straße" are single tokens, ü/ß not separators
    assert shingle_counts("für die große Straße", "für die große Straße") == (1.0, 0.0, 0.0)
    # no lower-casing: (Hello world) != (hello world)
    assert shingle_counts("Hello, world!", "hello world") == (0.0, 0.5, 0.5)


# --------------------------------------------------------------------------- shingle_scores


def test_shingle_scores_average_over_pages_where_defined() -> None:
    pages = [
        (1.0, 0.0, 0.0),  # perfect: P 1, R 1
        (0.0, 0.0, 1.0),  # empty output: P undefined (skipped), R 0
        (0.5, 0.25, 0.25),  # P = .5/.75 = 2/3, R = 2/3
    ]
    precision, recall, f1 = shingle_scores(pages)
    assert precision == pytest.approx(5 / 6)  # (1 + 2/3) / 2
    assert recall == pytest.approx(5 / 9)  # (1 + 0 + 2/3) / 3
    # 2 * 5/6 * 5/9 / (5/6 + 5/9) = (25/27) / (25/18) = 2/3
    assert f1 == pytest.approx(2 / 3)


def test_shingle_scores_skip_empty_gold_for_recall() -> None:
    # gold empty, output not: P 0 counts, R undefined
    precision, recall, f1 = shingle_scores([(1.0, 0.0, 0.0), (0.0, 1.0, 0.0)])
    assert (precision, recall) == (0.5, 1.0)
    assert f1 == pytest.approx(2 / 3)  # 2 * .5 * 1 / 1.5


def test_shingle_scores_all_empty_output_is_zero() -> None:
    assert shingle_scores([(0.0, 0.0, 1.0), (0.0, 0.0, 1.0)]) == (0.0, 0.0, 0.0)


# --------------------------------------------------------------------------- snippets


def test_snippet_counts_whitespace_normalised() -> None:
    pred = "Hello   world.\nSecond\tline here"  # normalises to "Hello world. Second line here"
    with_ = ["Hello world.", " Second\n line "]  # both found
    without = ["Menu", "world. Second"]  # "Menu" absent; the other spans a line break: found
    assert snippet_counts(pred, with_, without) == (2, 1, 0)


def test_snippet_counts_is_case_and_punctuation_sensitive() -> None:
    # only whitespace is normalised: tp 0, fn 2 (wrong case, missing comma)
    assert snippet_counts("Hello world", ["hello world", "Hello, world"], []) == (0, 0, 2)


def test_snippet_counts_empty_output() -> None:
    assert snippet_counts("", ["a", "b"], ["c"]) == (0, 0, 2)


def test_snippet_scores() -> None:
    # P 6/8, R 6/9, F1 = 12 / (12 + 2 + 3)
    assert snippet_scores(6, 2, 3) == pytest.approx((0.75, 2 / 3, 12 / 17))
    assert snippet_scores(0, 0, 0) == (0.0, 0.0, 0.0)
    assert snippet_scores(0, 3, 2) == (0.0, 0.0, 0.0)


# --------------------------------------------------------------------------- corpus runs


def _write_corpus(root: Path, pages: dict[str, bytes], gold: list[dict]) -> Path:
    (root / "pages").mkdir(parents=True)
    for name, raw in pages.items():
        (root / "pages" / name).write_bytes(gzip.compress(raw))
    lines = [json.dumps(record) for record in gold]
    (root / "gold.jsonl").write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return root


@pytest.fixture()
def tiny_corpus(tmp_path: Path) -> Path:
    """Three pages whose raw bytes are the text the fake extractor will return."""
    gold = [
        {
            "id": "a",
            "url": "http://example.org/a",
            "body": "alpha beta gamma delta epsilon",
            "with": ["beta gamma"],
            "without": ["menu"],
        },
        {
            "id": "b",
            "url": "http://example.org/b",
            "body": "alpha beta gamma delta zeta",
            "with": ["delta zeta"],
            "without": ["menu"],
        },
        {"id": "c", "body": "one two three four five", "with": ["one two"], "without": ["x"]},
    ]
    pages = {
        "a.html.gz": b"alpha beta gamma delta epsilon",
        "b.html.gz": b"menu alpha\n beta gamma delta",
        "c.html.gz": b"CRASH",
        # like googlenews' annotated copies: not listed in gold, must never be read
        "a.annotated.html.gz": b"CRASH",
    }
    return _write_corpus(tmp_path / "tiny", pages, gold)


def _echo_or_crash(raw: bytes, url: str | None) -> str:
    if raw == b"CRASH":
        raise ValueError("synthetic failure")
    return raw.decode("utf-8")


def test_load_gold_and_read_page(tiny_corpus: Path) -> None:
    gold = load_gold(tiny_corpus)
    assert [record["id"] for record in gold] == ["a", "b", "c"]  # blank line skipped
    assert read_page(tiny_corpus, "b") == b"menu alpha\n beta gamma delta"


def test_gold_read_byte_by_byte_from_utf16_is_repaired(tmp_path: Path) -> None:
    body = "Forgiving your enemies\r\n\r\nby Paulo Coelho"
    garbled = "\ufffd\ufffd" + "".join(ch + "\x00" for ch in body)
    rows = [{"id": "1", "body": garbled, "with": [garbled]},
            {"id": "2", "body": "a gold with one stray \x00 byte"}]  # fmt: skip
    (tmp_path / "gold.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    utf16, plain = load_gold(tmp_path)
    assert utf16["body"] == body and utf16["with"] == [body]
    assert plain["body"] == rows[1]["body"]


def test_evaluate_corpus_scores_errors_as_empty_output(tiny_corpus: Path) -> None:
    report = evaluate_corpus(tiny_corpus, _echo_or_crash, progress=False)
    # a: identical -> (1, 0, 0): P 1, R 1; snippets tp 1 ("beta gamma"), "menu" absent
    # b: pred (menu alpha beta gamma) (alpha beta gamma delta),
    #    gold (alpha beta gamma delta) (beta gamma delta zeta) -> tp 1 fp 1 fn 1: P .5, R .5
    #    snippets: "delta zeta" missing (fn 1), "menu" found (fp 1)
    # c: extractor raises -> "" -> (0, 0, 1): no P, R 0; "one two" missing (fn 1)
    # shingle P = (1 + .5) / 2 = .75, R = (1 + .5 + 0) / 3 = .5, F1 = .75 / 1.25 = .6
    # snippet tp 1, fp 1, fn 2: P .5, R 1/3, F1 = 2 / (2 + 1 + 2) = .4
    assert report.corpus == "tiny"
    assert report.pages == 3
    assert report.errors == 1
    assert report.shingle_precision == pytest.approx(0.75)
    assert report.shingle_recall == pytest.approx(0.5)
    assert report.shingle_f1 == pytest.approx(0.6)
    assert report.snippet_precision == pytest.approx(0.5)
    assert report.snippet_recall == pytest.approx(1 / 3)
    assert report.snippet_f1 == pytest.approx(0.4)
    assert report.ms_per_page >= 0.0


def test_evaluate_corpus_passes_url_and_times_only_extract(
    tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = [100.0]
    monkeypatch.setattr(evaluate.time, "perf_counter", lambda: clock[0])
    seen: list[str | None] = []
    cost = {b"CRASH": 0.030}  # seconds the fake extractor "spends" per page

    def slow(raw: bytes, url: str | None) -> str:
        seen.append(url)
        clock[0] += cost.get(raw, 0.010)
        return _echo_or_crash(raw, url)

    report = evaluate_corpus(tiny_corpus, slow, progress=False)
    assert seen == ["http://example.org/a", "http://example.org/b", None]
    # 10 + 10 + 30 ms (the raising call is timed too) over 3 pages
    assert report.ms_per_page == pytest.approx(50 / 3)


def test_evaluate_corpus_perfect_extractor(tiny_corpus: Path) -> None:
    gold = {record["id"]: record["body"] for record in load_gold(tiny_corpus)}
    bodies = {read_page(tiny_corpus, key): body for key, body in gold.items()}
    report = evaluate_corpus(tiny_corpus, lambda raw, url: bodies[raw], progress=False)
    assert (report.shingle_precision, report.shingle_recall, report.shingle_f1) == (1, 1, 1)
    # snippets: with a, b (found in "... delta zeta"), c found; no "menu"/"x" -> tp 3
    assert (report.snippet_precision, report.snippet_recall, report.snippet_f1) == (1, 1, 1)
    assert report.errors == 0


def test_evaluate_corpus_without_body_or_snippet_gold(tmp_path: Path) -> None:
    corpus = _write_corpus(
        tmp_path / "snips",
        {"p.html.gz": b"keep this text"},
        [{"id": "p", "with": ["keep this"], "without": ["drop"]}],
    )
    report = evaluate_corpus(corpus, _echo_or_crash, progress=False)
    assert report.shingle_precision is None
    assert report.shingle_recall is None
    assert report.shingle_f1 is None
    assert report.snippet_f1 == 1.0
    # None extractor output (trafilatura's "nothing found") is an empty output, not an error
    report = evaluate_corpus(corpus, lambda raw, url: None, progress=False)  # type: ignore[arg-type]
    assert (report.snippet_f1, report.errors) == (0.0, 0)


def test_limit_takes_an_even_deterministic_spread(tmp_path: Path) -> None:
    ids = [f"{i:02d}" for i in range(10)]
    corpus = _write_corpus(
        tmp_path / "ten",
        {f"{i}.html.gz": i.encode() for i in ids},
        [{"id": i, "body": "x"} for i in ids],
    )
    seen: list[bytes] = []

    def record(raw: bytes, url: str | None) -> str:
        seen.append(raw)
        return "x"

    report = evaluate_corpus(corpus, record, limit=3, progress=False)
    # indices i * 10 // 3 for i in 0..2 -> 0, 3, 6
    assert seen == [b"00", b"03", b"06"]
    assert report.pages == 3
    seen.clear()
    assert evaluate_corpus(corpus, record, limit=50, progress=False).pages == 10
    with pytest.raises(ValueError):
        evaluate_corpus(corpus, record, limit=0, progress=False)


def test_progress_goes_to_stderr_only_when_enabled(
    tiny_corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evaluate_corpus(tiny_corpus, lambda raw, url: "", progress=False)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    evaluate_corpus(tiny_corpus, lambda raw, url: "", progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "tiny" in captured.err


def test_report_to_dict_has_every_field_but_corpus() -> None:
    report = CorpusReport("c", 2, 0.5, 0.5, 0.5, None, None, None, 1.5, 0)
    assert report.to_dict() == {
        "pages": 2,
        "shingle_precision": 0.5,
        "shingle_recall": 0.5,
        "shingle_f1": 0.5,
        "snippet_precision": None,
        "snippet_recall": None,
        "snippet_f1": None,
        "ms_per_page": 1.5,
        "errors": 0,
    }


# --------------------------------------------------------------------------- trafilatura


def test_trafilatura_extractor_missing_gives_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "trafilatura", None)  # makes `import trafilatura` fail
    with pytest.raises(RuntimeError, match=r"boilerplate-classifier\[compare\]"):
        trafilatura_extractor()


def test_trafilatura_extractor_runs_on_bytes() -> None:
    pytest.importorskip("trafilatura")
    paragraph = "Die Straße war lang und grün, und wir gingen sie bis zum Ende entlang. " * 6
    html = (
        '<html><head><meta charset="utf-8"><title>t</title></head><body>'
        f"<nav><a href='/'>Home</a></nav><article><p>{paragraph}</p></article></body></html>"
    ).encode()
    extract = trafilatura_extractor()
    assert "Die Straße war lang und grün" in extract(html, None)
    assert extract(b"", None) == ""  # nothing extracted -> "" rather than None


# --------------------------------------------------------------------------- real data


@pytest.mark.skipif(
    not (SHARED_CORPORA / "web2026-dev").is_dir(), reason="shared corpora not available"
)
def test_real_corpus_smoke() -> None:
    import lxml.html

    def all_text(raw: bytes, url: str | None) -> str:
        return lxml.html.document_fromstring(raw).text_content()

    report = evaluate_corpus(SHARED_CORPORA / "web2026-dev", all_text, limit=20, progress=False)
    assert report.pages == 20
    for value in (report.shingle_precision, report.shingle_recall, report.shingle_f1):
        assert value is not None and 0.0 <= value <= 1.0
    assert report.snippet_f1 is not None and 0.0 <= report.snippet_f1 <= 1.0
    # the whole page holds the article, so recall is high and precision low
    assert report.shingle_recall > report.shingle_precision
    assert report.errors < 20


def test_label_scores_by_hand():
    from classifier.evaluate import label_scores

    pairs = [("content", "content"), ("content", "boilerplate"), ("donation_appeal",
             "donation_appeal"), ("boilerplate", "donation_appeal"), ("boilerplate",
             "boilerplate")]  # fmt: skip
    s = label_scores(pairs)
    assert s["content"] == {"precision": 1.0, "recall": 0.5, "f1": 0.6667, "blocks": 2}
    assert s["donation_appeal"] == {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "blocks": 1}
    assert s["boilerplate"]["precision"] == 0.5 and s["boilerplate"]["recall"] == 0.5


def test_non_content_dropped_counts_any_non_content_verdict_as_absent():
    from classifier.evaluate import non_content_dropped

    pairs = [("content", "boilerplate"), ("donation_appeal", "boilerplate"),
             ("related_links", "content"), ("boilerplate", "boilerplate"),
             ("counter_widget", "counter_widget")]  # fmt: skip
    # 4 non-content blocks; only the related box reached the text
    assert non_content_dropped(pairs) == {"share": 0.75, "blocks": 4}
    assert non_content_dropped([("content", "content")]) is None


def test_evaluate_scores_block_labels_against_hand_labels(tmp_path, tiny_model_path):
    import gzip as gz

    from conftest import write_tiny_corpus
    from typer.testing import CliRunner

    from classifier.cli import app
    from classifier.decode import parse
    from classifier.labels import fingerprint
    from classifier.segment import segment

    cdir = write_tiny_corpus(tmp_path, "tinylab")
    page = sorted((cdir / "pages").glob("*.html.gz"))[0]
    blocks = segment(parse(gz.decompress(page.read_bytes())))
    labels = tmp_path / "labels.jsonl"
    rows = [{"corpus": "tinylab", "id": page.name.split(".")[0],
             "fingerprint": fingerprint(b.text), "label": "content", "source": "hand"}
            for b in blocks[:3]]  # fmt: skip
    rows.append(dict(rows[0], fingerprint=fingerprint(blocks[-1].text), label="boilerplate"))
    labels.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = CliRunner().invoke(app, ["evaluate", str(cdir), "--json", "--labels", str(labels),
                                      "--model", str(tiny_model_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["tinylab"]
    assert sum(r["blocks"] for r in row["block_labels"].values()) == 4
    assert row["non_content_dropped"]["blocks"] == 1
    assert set(row["block_labels"]) >= {"content"}
