"""Dask: `classifier clean --dask` and clean_dataframe() give the single-process results.

A 2-worker LocalCluster: one in-process (threads) for the module, shared by the tests
that take a scheduler address, and one started by `--dask local:2` (processes).
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from collections import Counter

import pytest
from conftest import SEED_PAGES, TINY_ARTICLES, tiny_page
from integration_helpers import HTML_RESPONSES, SEED_APPEAL, SEED_PARAGRAPH, write_crawl
from typer.testing import CliRunner

from classifier import Cleaner
from classifier.cli import app
from classifier.integrations.dask import COLUMNS, chunk_inputs, clean_dataframe
from classifier.model import LABELS

pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")
pytest.importorskip("pyarrow")
pytest.importorskip("warcio")

runner = CliRunner()
N_PAGES = len(SEED_PAGES) + len(TINY_ARTICLES) + len(HTML_RESPONSES)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:  # fmt: skip
        yield cluster


@pytest.fixture(scope="module")
def cli(tiny_model_path):
    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args] + ["--model", str(tiny_model_path)])

    return invoke


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[str]:
    """A directory of pages (.html and .html.gz) and a WARC: N_PAGES pages in all."""
    root = tmp_path_factory.mktemp("dask-inputs")
    pages = root / "pages"
    pages.mkdir()
    for page in SEED_PAGES:
        shutil.copy(page, pages / page.name)
    for pid in TINY_ARTICLES:
        (pages / f"{pid}.html.gz").write_bytes(gzip.compress(tiny_page(pid).encode()))
    return [str(pages), str(write_crawl(root / "crawl.warc.gz"))]


@pytest.fixture(scope="module")
def single(cli, inputs) -> list[dict]:
    """The single-process reference: `classifier clean INPUTS --format json`."""
    result = cli("clean", *inputs, "--format", "json")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def assert_same_as_single(df, single: list[dict]) -> None:
    assert list(df.columns) == COLUMNS
    assert len(df) == len(single) == N_PAGES
    assert df["source"].tolist() == [r["source"] for r in single]  # same order, too
    assert [u if isinstance(u, str) else None for u in df["url"]] == [r["url"] for r in single]
    assert df["title"].tolist() == [r["title"] for r in single]
    assert df["text"].tolist() == [r["text"] for r in single]
    assert df["paywalled"].tolist() == [r["paywalled"] for r in single]
    for (_, row), ref in zip(df.iterrows(), single, strict=True):
        counts = Counter(b["label"] for b in ref["blocks"])
        assert {label: row[f"n_{label}"] for label in LABELS} == {
            label: counts.get(label, 0) for label in LABELS
        }
    assert df["error"].isna().all()


def test_cli_on_an_existing_cluster_matches_single_process(cli, cluster, inputs, single,
                                                           tmp_path):  # fmt: skip
    out = tmp_path / "out"
    result = cli("clean", *inputs, "--dask", cluster.scheduler_address, "--output", out)
    assert result.exit_code == 0, result.output
    df = pd.read_parquet(out)
    assert_same_as_single(df, single)
    seed = df[df["source"].str.endswith("seed_wordpress.html")].iloc[0]
    assert SEED_PARAGRAPH in seed["text"] and SEED_APPEAL not in seed["text"]
    assert seed["n_donation_appeal"] >= 1
    warc = df[df["url"] == HTML_RESPONSES[0].url].iloc[0]
    assert warc["source"] == HTML_RESPONSES[0].url and warc["text"] == seed["text"]
    assert f"{N_PAGES} pages -> {out}" in result.stderr and "on 2 Dask workers" in result.stderr
    assert "skipped 5 records" in result.stderr


def test_cli_local_starts_a_two_worker_cluster(cli, inputs, single, tmp_path):
    out = tmp_path / "out"
    result = cli("clean", *inputs, "--dask", "local:2", "--output", out)
    assert result.exit_code == 0, result.output
    assert "on 2 Dask workers" in result.stderr
    assert_same_as_single(pd.read_parquet(out), single)


def test_failed_inputs_are_error_rows_and_exit_1(cli, cluster, tmp_path):
    crawl = write_crawl(tmp_path / "cut.warc.gz")
    crawl.write_bytes(crawl.read_bytes()[:-60])
    out = tmp_path / "out"
    missing = tmp_path / "absent.html"
    result = cli("clean", SEED_PAGES[0], missing, crawl, "--dask", cluster.scheduler_address,
                 "--output", out)  # fmt: skip
    assert result.exit_code == 1
    df = pd.read_parquet(out)
    assert df["source"].tolist() == [str(SEED_PAGES[0]), str(missing),
                                      *[r.url for r in HTML_RESPONSES[:2]], str(crawl)]  # fmt: skip
    errors = df["error"].tolist()
    assert errors[0] is None or pd.isna(errors[0])
    assert errors[1].startswith("FileNotFoundError") and "ArchiveTruncated" in errors[4]
    assert df["text"].isna().tolist() == [False, True, False, False, True]
    assert f"error: {missing}: FileNotFoundError" in result.stderr


def test_cli_needs_an_output_dir_and_a_fresh_one(cli, inputs, tmp_path):
    result = cli("clean", *inputs, "--dask", "local")
    assert result.exit_code == 2 and "give --output DIR" in result.stderr
    (tmp_path / "part-00000.parquet").write_bytes(b"")
    result = cli("clean", *inputs, "--dask", "local", "--output", tmp_path)
    assert result.exit_code == 2 and "already holds 1 part-*.parquet" in result.stderr


def test_cli_rejects_a_bad_local_worker_count(cli, inputs, tmp_path):
    result = cli("clean", *inputs, "--dask", "local:0", "--output", tmp_path)
    assert result.exit_code == 2 and "local:N with N >= 1" in result.stderr


def test_without_dask_the_error_names_the_extra(cli, inputs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = cli("clean", *inputs, "--dask", "local", "--output", tmp_path)
    assert result.exit_code == 2
    assert "pip install 'boilerplate-classifier[dask]'" in result.stderr


def test_chunks_keep_input_order_and_give_each_archive_its_own():
    items = [(f"{i}.html", f"/p/{i}.html") for i in range(10)]
    items.insert(4, ("c.warc.gz", "/p/c.warc.gz"))
    chunks = chunk_inputs(items, workers=2)
    assert [x for chunk in chunks for x in chunk] == items
    assert [("c.warc.gz", "/p/c.warc.gz")] in chunks
    assert max(len(c) for c in chunks) == 2  # 10 pages / (4 * 2 workers), rounded up


def test_clean_dataframe_adds_the_cleaned_columns(cluster, tiny_model_path):
    cleaner = Cleaner(model=tiny_model_path)
    pages = [p.read_text(encoding="utf-8") for p in SEED_PAGES] + [tiny_page("c"), None]
    urls = [f"https://example.org/{i}" for i in range(len(pages))]
    pdf = pd.DataFrame({"url": urls, "html": pages, "site": "example.org"})
    with distributed.Client(cluster):
        ddf = clean_dataframe(dd.from_pandas(pdf, npartitions=2), html_column="html",
                              url_column="url", model=tiny_model_path)  # fmt: skip
        out = ddf.compute()
    assert out["site"].tolist() == ["example.org"] * len(pages)  # input columns kept
    for html, (_, row) in zip(pages[:-1], out.iloc[:-1].iterrows(), strict=True):
        page = cleaner.clean(html)
        assert row["text"] == page.text and row["title"] == page.title
        assert row["n_content"] == sum(b.label == "content" for b in page.blocks)
        assert pd.isna(row["error"])
    assert "no HTML" in out.iloc[-1]["error"] and pd.isna(out.iloc[-1]["text"])


def test_clean_dataframe_checks_its_columns(tiny_model_path):
    ddf = dd.from_pandas(pd.DataFrame({"body": ["<p>x</p>"], "text": ["t"]}), npartitions=1)
    with pytest.raises(KeyError, match="no column 'html'"):
        clean_dataframe(ddf)
    with pytest.raises(ValueError, match=r"\['text'\] already exist"):
        clean_dataframe(ddf, html_column="body")
