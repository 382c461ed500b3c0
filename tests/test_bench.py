"""Benchmark command: measures every stage of every page; never asserts a speed."""

from __future__ import annotations

import json

from conftest import SEED_PAGES
from typer.testing import CliRunner

from classifier.bench import STAGES, load_pages, run_bench
from classifier.cli import app
from classifier.model import Model


def test_run_bench_times_each_stage_of_each_page(tiny_model_path):
    pages = [p.read_bytes() for p in SEED_PAGES]
    result = run_bench(pages, Model.load(tiny_model_path), compare=False)
    assert result.pages == len(pages)
    assert list(result.stages) == list(STAGES)
    assert all(len(v) == len(pages) and min(v) >= 0 for v in result.stages.values())
    d = result.to_dict()
    assert d["classifier"]["ms_p95"] >= d["classifier"]["ms_median"] > 0
    assert "time_ratio" not in d  # no second system to compare with


def test_bench_command_json_on_a_tiny_corpus(tiny_corpus, tiny_model_path):
    assert len(load_pages([tiny_corpus], 2)) == 2
    result = CliRunner().invoke(app, ["bench", str(tiny_corpus), "--no-compare", "--json",
                                      "--model", str(tiny_model_path)])  # fmt: skip
    assert result.exit_code == 0, result.output
    d = json.loads(result.stdout)
    assert d["pages"] >= 2 and d["peak_rss_mb"] > 0
    assert set(d["stages_ms_mean"]) == set(STAGES)


def test_bench_gives_the_process_its_cores_back(tiny_model_path):
    import os

    before = os.sched_getaffinity(0)
    run_bench([SEED_PAGES[0].read_bytes()], Model.load(tiny_model_path), compare=False)
    assert os.sched_getaffinity(0) == before
