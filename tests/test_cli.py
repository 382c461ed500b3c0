"""Command line (typer app): clean, blocks, evaluate and train, driven by CliRunner.

Most tests pass `--model` with the tiny model trained on the authored pages, so they
do not depend on the shipped model; the CLI output is checked against the library's.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil

import pytest
from conftest import REPO, SEED_PAGES, TINY_ARTICLES, write_tiny_corpus
from typer.testing import CliRunner

from classifier import Cleaner
from classifier.cli import app
from classifier.model import DEFAULT_MODEL, LABELS, default_model

runner = CliRunner()
PAGE = SEED_PAGES[0]
HEADLINE = "NATO, Ukraine convene emergency talks"
BLOCK_FIELDS = {"text", "label", "confidence", "tag", "xpath"}
EVAL_FIELDS = {
    "pages", "shingle_precision", "shingle_recall", "shingle_f1",
    "snippet_precision", "snippet_recall", "snippet_f1", "ms_per_page", "errors",
}  # fmt: skip


@pytest.fixture(scope="module")
def cleaner(tiny_model_path) -> Cleaner:
    return Cleaner(model=tiny_model_path)


@pytest.fixture(scope="module")
def cli(tiny_model_path):
    """Invoke the app with the tiny model."""

    def invoke(*args: str, input: bytes | None = None, model: bool = True):
        argv = [str(a) for a in args]
        if model:
            argv += ["--model", str(tiny_model_path)]
        return runner.invoke(app, argv, input=input)

    return invoke


def jsonl(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


# ------------------------------------------------------------------------ help


@pytest.mark.parametrize(
    "command", ["clean", "blocks", "train", "evaluate", "import-labels", "bench", "report", "label"]
)
def test_help_of_each_command(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.stdout and command in result.stdout


def test_top_level_help_lists_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("clean", "blocks", "train", "evaluate"):
        assert command in result.stdout


# ------------------------------------------------------------------------ clean


def test_clean_one_file_prints_text(cli, cleaner):
    result = cli("clean", PAGE)
    assert result.exit_code == 0, result.output
    expected = cleaner.clean(PAGE.read_bytes()).text
    assert result.stdout == expected + "\n"
    assert HEADLINE in result.stdout
    assert result.stderr == ""


def test_clean_json(cli, cleaner):
    result = cli("clean", PAGE, "--format", "json")
    assert result.exit_code == 0, result.output
    obj = json.loads(result.stdout)
    page = cleaner.clean(PAGE.read_bytes())
    assert obj["title"].startswith(HEADLINE)
    assert obj["text"] == page.text
    assert len(obj["blocks"]) == len(page.blocks)
    for b in obj["blocks"]:
        assert set(b) >= BLOCK_FIELDS
        assert b["label"] in LABELS and 0.0 <= b["confidence"] <= 1.0
    kept = [b["text"] for b in obj["blocks"] if b["label"] == "content"]
    assert "\n\n".join(kept) == obj["text"]


def test_clean_markdown_and_html(cli, cleaner):
    page = cleaner.clean(PAGE.read_bytes())
    md = cli("clean", PAGE, "-f", "markdown")
    assert md.exit_code == 0, md.output
    assert md.stdout == page.to_markdown()
    assert re.search(r"^# .*" + re.escape(HEADLINE), md.stdout, re.M)
    html = cli("clean", PAGE, "-f", "html")
    assert html.exit_code == 0, html.output
    assert html.stdout.startswith("<!DOCTYPE html>") and "</article>" in html.stdout


def test_clean_gzipped_input(cli, tmp_path):
    gz = tmp_path / "page.html.gz"
    gz.write_bytes(gzip.compress(PAGE.read_bytes()))
    plain = cli("clean", PAGE)
    result = cli("clean", gz)
    assert result.exit_code == 0, result.output
    assert result.stdout == plain.stdout


def test_clean_gzip_detected_by_magic_bytes(cli, tmp_path):
    odd = tmp_path / "page.html"
    odd.write_bytes(gzip.compress(PAGE.read_bytes()))
    assert cli("clean", odd).stdout == cli("clean", PAGE).stdout


def test_clean_stdin(cli):
    result = cli("clean", "-", input=PAGE.read_bytes())
    assert result.exit_code == 0, result.output
    assert result.stdout == cli("clean", PAGE).stdout


def test_clean_several_inputs_gives_json_lines(cli, cleaner):
    result = cli("clean", *SEED_PAGES)
    assert result.exit_code == 0, result.output
    rows = jsonl(result.stdout)
    assert [r["source"] for r in rows] == [str(p) for p in SEED_PAGES]
    for row, path in zip(rows, SEED_PAGES, strict=True):
        assert row["text"] == cleaner.clean(path.read_bytes()).text
        assert "blocks" not in row  # only --format json keeps the blocks
    with_blocks = jsonl(cli("clean", *SEED_PAGES, "--format", "json").stdout)
    assert all(len(r["blocks"]) > 0 for r in with_blocks)
    with_md = jsonl(cli("clean", *SEED_PAGES, "--format", "markdown").stdout)
    for row, path in zip(with_md, SEED_PAGES, strict=True):
        assert row["markdown"] == cleaner.clean(path.read_bytes()).to_markdown()
        assert "# " in row["markdown"]


def test_clean_directory_input(cli, tmp_path):
    d = tmp_path / "site"
    (d / "sub").mkdir(parents=True)
    shutil.copy(SEED_PAGES[0], d / "one.html")
    (d / "sub" / "two.html.gz").write_bytes(gzip.compress(SEED_PAGES[1].read_bytes()))
    (d / "notes.txt").write_text("not a page")
    result = cli("clean", d)
    assert result.exit_code == 0, result.output
    rows = jsonl(result.stdout)
    assert [r["source"] for r in rows] == [str(d / "one.html"), str(d / "sub" / "two.html.gz")]
    assert all(HEADLINE in r["text"] for r in rows)


def test_clean_empty_directory(cli, tmp_path):
    result = cli("clean", tmp_path)
    assert result.exit_code == 2
    assert "no HTML files" in result.stderr and "no input files" in result.stderr


def test_clean_output_dir_writes_one_file_per_input(cli, tmp_path):
    gz = tmp_path / "in" / "third.html.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress(SEED_PAGES[2].read_bytes()))
    out = tmp_path / "out"
    result = cli("clean", SEED_PAGES[0], SEED_PAGES[1], gz, "--output", out)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([SEED_PAGES[0].stem + ".txt", SEED_PAGES[1].stem + ".txt", "third.txt"])
    assert (out / "third.txt").read_text() == cli("clean", SEED_PAGES[2]).stdout
    one = cli("clean", SEED_PAGES[0], "-o", out / "md", "-f", "markdown")
    assert one.exit_code == 0
    assert (out / "md" / (SEED_PAGES[0].stem + ".md")).read_text().startswith("#")


def test_clean_output_dir_keeps_inputs_with_the_same_name(cli, tmp_path):
    for sub, page in (("a", SEED_PAGES[0]), ("b", SEED_PAGES[1])):
        (tmp_path / "site" / sub).mkdir(parents=True)
        shutil.copy(page, tmp_path / "site" / sub / "index.html")
    out = tmp_path / "out"
    result = cli("clean", tmp_path / "site", "--output", out)
    assert result.exit_code == 0
    assert len(list(out.iterdir())) == 2


def test_clean_missing_file_among_several(cli, tmp_path):
    missing = tmp_path / "missing.html"
    result = cli("clean", SEED_PAGES[0], missing, SEED_PAGES[1])
    assert result.exit_code == 1
    rows = jsonl(result.stdout)
    assert [r["source"] for r in rows] == [str(SEED_PAGES[0]), str(missing), str(SEED_PAGES[1])]
    assert HEADLINE in rows[0]["text"] and HEADLINE in rows[2]["text"]
    assert "error" in rows[1] and "text" not in rows[1]
    assert str(missing) in result.stderr and "error" in result.stderr
    assert HEADLINE not in result.stderr


def test_clean_single_missing_file(cli, tmp_path):
    result = cli("clean", tmp_path / "missing.html")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "missing.html" in result.stderr


def test_clean_keep_option(cli, cleaner):
    result = cli("clean", PAGE, "--keep", "content", "--keep", "related_links")
    assert result.exit_code == 0, result.output
    page = cleaner.clean(PAGE.read_bytes())
    expected = [b.text for b in page.blocks if b.label in ("content", "related_links")]
    assert result.stdout == "\n\n".join(expected) + "\n"
    bad = cli("clean", PAGE, "--keep", "adverts")
    assert bad.exit_code == 2
    assert "adverts" in bad.stderr


def test_clean_with_missing_model_file(cli, tmp_path):
    result = runner.invoke(app, ["clean", str(PAGE), "--model", str(tmp_path / "no.joblib")])
    assert result.exit_code == 2
    assert "model file not found" in result.stderr


@pytest.fixture
def no_default_model(tmp_path, monkeypatch):
    default_model.cache_clear()
    monkeypatch.setattr("classifier.model.DEFAULT_MODEL", tmp_path / "absent.joblib")
    yield
    default_model.cache_clear()


def test_clean_without_a_shipped_model_says_so(no_default_model):
    result = runner.invoke(app, ["clean", str(PAGE)])
    assert result.exit_code == 2
    assert "model file not found" in result.stderr and "absent.joblib" in result.stderr


@pytest.mark.skipif(not DEFAULT_MODEL.is_file(), reason="no shipped model in models/")
def test_clean_with_the_shipped_model():
    result = runner.invoke(app, ["clean", str(REPO / "tests/fixtures/seed_wordpress.html")])
    assert result.exit_code == 0, result.output
    assert "NATO ambassadors" in result.stdout
    assert "Become a Patron" not in result.stdout


# ------------------------------------------------------------------------ blocks

_ROW = re.compile(r"^(\w+) +(\d\.\d\d)  (\S+) +(.+)$")


def test_blocks_table(cli, cleaner):
    result = cli("blocks", PAGE)
    assert result.exit_code == 0, result.output
    page = cleaner.clean(PAGE.read_bytes())
    lines = result.stdout.splitlines()
    assert len(lines) == len(page.blocks)
    for line, block in zip(lines, page.blocks, strict=True):
        m = _ROW.match(line)
        assert m, line
        assert m.group(1) == block.label and m.group(3) == block.tag
        assert len(m.group(4)) <= 70
        assert block.text.startswith(m.group(4).removesuffix("..."))


def test_blocks_jsonl_and_why(cli):
    result = cli("blocks", PAGE, "--format", "jsonl")
    assert result.exit_code == 0, result.output
    rows = jsonl(result.stdout)
    assert rows and all(set(r) >= BLOCK_FIELDS for r in rows)
    assert any(HEADLINE in r["text"] for r in rows)
    why = jsonl(cli("blocks", PAGE, "-f", "jsonl", "--why").stdout)
    assert [r["text"] for r in why] == [r["text"] for r in rows]
    assert any(r.get("why") for r in why)
    table = cli("blocks", PAGE, "--why").stdout
    assert "why: " in table


def test_blocks_stdin_and_missing_file(cli, tmp_path):
    result = cli("blocks", "-", "-f", "jsonl", input=b"<p>Only one short paragraph here.</p>")
    assert result.exit_code == 0
    assert [r["text"] for r in jsonl(result.stdout)] == ["Only one short paragraph here."]
    missing = cli("blocks", tmp_path / "nope.html")
    assert missing.exit_code == 1 and "nope.html" in missing.stderr  # 1: an input failed


def test_blocks_of_an_empty_page(cli):
    result = cli("blocks", "-", input=b"   ")
    assert result.exit_code == 0
    assert result.stdout == ""


# ------------------------------------------------------------------------ evaluate


def test_evaluate_json(cli, cleaner, tiny_corpus):
    from classifier.evaluate import evaluate_corpus

    result = cli("evaluate", tiny_corpus, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert list(report) == [tiny_corpus.name]
    row = report[tiny_corpus.name]
    assert set(row) == EVAL_FIELDS
    assert row["pages"] == len(TINY_ARTICLES) and row["errors"] == 0
    assert row["ms_per_page"] > 0
    for key in EVAL_FIELDS - {"pages", "errors", "ms_per_page"}:
        assert 0.0 <= row[key] <= 1.0
    # the CLI reports what the library computes with the same model
    lib = evaluate_corpus(tiny_corpus, lambda b, u: cleaner.clean(b, url=u).text,
                          progress=False).to_dict()  # fmt: skip
    for key in EVAL_FIELDS - {"ms_per_page"}:
        assert row[key] == pytest.approx(lib[key]), key


def test_evaluate_table_and_limit(cli, tiny_corpus):
    result = cli("evaluate", tiny_corpus, "--limit", "2")
    assert result.exit_code == 0, result.output
    [header, row] = [line for line in result.stdout.splitlines() if line.strip()]
    assert "shingle P/R/F1" in header
    assert row.split()[:3] == [tiny_corpus.name, "classifier", "2"]


def test_evaluate_compare_json_keeps_our_fields_and_adds_the_time_ratio(
    cli, tiny_corpus, monkeypatch
):
    def fake_extractor():
        def extract(raw: bytes, url: str | None) -> str:
            return "All rights reserved."

        return extract

    monkeypatch.setattr("classifier.evaluate.trafilatura_extractor", fake_extractor)
    result = cli("evaluate", tiny_corpus, "--json", "--compare", "trafilatura")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)[tiny_corpus.name]
    assert set(row) == EVAL_FIELDS | {"compare"}
    other = row["compare"]["trafilatura"]
    assert set(other) == EVAL_FIELDS | {"time_ratio"}
    assert other["shingle_f1"] < row["shingle_f1"]
    assert other["time_ratio"] == pytest.approx(
        row["ms_per_page"] / other["ms_per_page"], rel=0.01
    )


def test_evaluate_scores_an_unreadable_page_as_empty(cli, tiny_corpus, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(tiny_corpus, broken)
    page = sorted((broken / "pages").iterdir())[0]
    page.write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    result = cli("evaluate", broken, "--json")
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["broken"]
    assert row["pages"] == len(TINY_ARTICLES)
    bad = cli("evaluate", broken, "--limit", "0")
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_evaluate_rejects_a_dir_without_gold(cli, tmp_path):
    result = cli("evaluate", tmp_path, "--json")
    assert result.exit_code == 2
    assert "gold.jsonl" in result.stderr


# ------------------------------------------------------------------------ train


def test_train_command_on_a_tiny_corpus(tmp_path, monkeypatch):
    def fake_trafilatura():  # the held-out pages are scored for trafilatura too
        return lambda raw, url: "All rights reserved."

    monkeypatch.setattr("classifier.evaluate.trafilatura_extractor", fake_trafilatura)
    corpus = write_tiny_corpus(tmp_path / "corpora", name="mini")
    labels = tmp_path / "labels"
    labels.mkdir()
    out = tmp_path / "models" / "mini.joblib"
    args = ["train", "--corpus", str(corpus), "--labels", str(labels), "--output", str(out),
            "--jobs", "1", "--seed", "0"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.with_suffix(".card.json").is_file()
    card = json.loads(out.with_suffix(".card.json").read_text())
    assert card["training_data"]["pages"]["mini"] == len(TINY_ARTICLES)
    assert card["training_data"]["stored_label_files"] == [str(labels)]
    # page "a" sits on a site held out for seed 0, so the page metrics score it
    row = card["metrics"]["pages_site_disjoint_test"]["mini"]
    assert row["pages"] == 1
    assert row["trafilatura"]["shingle_f1"] < row["shingle_f1"]
    assert "saved" in result.stderr
    # and the model it wrote is usable from the CLI
    cleaned = runner.invoke(app, ["clean", str(PAGE), "--model", str(out)])
    assert cleaned.exit_code == 0 and HEADLINE in cleaned.stdout


def test_train_command_without_page_metrics(tmp_path, tiny_corpus):
    out = tmp_path / "m.joblib"
    args = ["train", "-c", str(tiny_corpus), "-c", str(tmp_path / "absent"), "-l",
            str(tmp_path), "-o", str(out), "-j", "1", "--no-page-metrics"]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    card = json.loads(out.with_suffix(".card.json").read_text())
    assert "pages_site_disjoint_test" not in card["metrics"]
    assert "skipping corpus" in result.stderr and "absent" in result.stderr
