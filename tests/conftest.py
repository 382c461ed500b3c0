"""Shared fixtures: hand-made blocks, a tiny trained model and a tiny synthetic corpus.

Nothing here reads ../shared: the tiny model is trained on training_data/pages only,
and the corpus pages below are written for these tests.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from classifier.model import Model
from classifier.segment import Block

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures"
AUTHORED_PAGES = REPO / "training_data" / "pages"
SEED_PAGES = sorted(FIXTURES.glob("seed_*.html"))


def make_block(text: str, index: int = 0, tag: str = "p", **kw) -> Block:
    """A Block as the segmenter would make it, for label/alignment tests."""
    fields = dict(
        text=text,
        tag=tag,
        xpath=f"/html/body/{tag}[{index + 1}]",
        depth=2,
        index=index,
        link_chars=0,
        n_links=0,
        own_tokens=(),
        parent_tokens=(),
        ancestor_tokens=frozenset(),
        ancestor_tags=frozenset({"html", "body"}),
    )
    fields.update(kw)
    return Block(**fields)


def make_blocks(*texts: str) -> list[Block]:
    return [make_block(t, index=i) for i, t in enumerate(texts)]


# --------------------------------------------------------------------- tiny model


@dataclass
class Trained:
    model: Model  # as returned by train(), never saved and reloaded
    path: Path
    logs: list[str]


def train_tiny(output: Path, **kw) -> Trained:
    """train() on the authored pages only (no corpus, no stored labels)."""
    from classifier.train import train

    logs: list[str] = []
    kw.setdefault("corpora", [])
    kw.setdefault("label_paths", [])
    model = train(output=output, n_jobs=1, progress=False, log=logs.append, **kw)
    return Trained(model, output, logs)


@pytest.fixture(scope="session")
def trained(tmp_path_factory) -> Trained:
    """One tiny model for the whole session (about a second to train)."""
    return train_tiny(tmp_path_factory.mktemp("tiny-model") / "m.joblib")


@pytest.fixture(scope="session")
def tiny_model_path(trained) -> Path:
    return trained.path


# --------------------------------------------------------------------- tiny corpus

_NAV = """<div class="site-header"><a href="/">The Daily Example</a>
<ul class="menu"><li><a href="/world">World</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/weather">Weather</a></li><li><a href="/about">About us</a></li></ul></div>"""
_FOOTER = """<footer><p>Copyright 2025 The Daily Example. All rights reserved.</p>
<p><a href="/privacy">Privacy policy</a> | <a href="/terms">Terms of use</a></p></footer>"""

TINY_ARTICLES = {
    "a": [
        "The town council voted on Tuesday to reopen the old swimming baths on Mill Lane, "
        "which have stood empty since the roof was damaged in a storm four years ago.",
        "Councillors said the repairs would be paid for from a regional heritage fund, and "
        "that the pool should be open again by the end of next summer if the work stays "
        "on schedule.",
        "Residents who campaigned for the reopening gathered outside the town hall to hear "
        "the result, and several of them said they had learned to swim in the same pool as "
        "children.",
    ],
    "b": [
        "Our allotment finally produced a proper crop of runner beans this year, after two "
        "seasons in which slugs ate nearly every seedling before it could climb the canes.",
        "The trick, as far as we can tell, was starting the beans indoors in paper pots and "
        "only planting them out once the stems were thick enough to survive a bad night.",
    ],
    "c": [
        "The ferry company confirmed that the evening crossing will run twice a week during "
        "the winter months, instead of being cancelled entirely as it was last year.",
        "Passengers will need to book at least a day in advance, because the smaller winter "
        "boat carries fewer cars and the company wants to avoid turning people away.",
    ],
}
TINY_URLS = {
    "a": "https://daily.example.com/news/baths",  # a held-out site for seed 0
    "b": "https://blog.example.net/beans",
    "c": "https://www.times.example.net/ferry",
}
RELATED_C = "Related stories: Harbour dredging to start in spring"


def tiny_page(page_id: str) -> str:
    paras = "\n".join(f"<p>{p}</p>" for p in TINY_ARTICLES[page_id])
    related = (
        f'<div class="related"><p><a href="/harbour">{RELATED_C}</a></p></div>'
        if page_id == "c"
        else ""
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Story {page_id}</title>"
        f"</head><body>{_NAV}<main><article><h1>Story {page_id}</h1>{paras}</article>"
        f"{related}</main>{_FOOTER}</body></html>"
    )


def write_tiny_corpus(root: Path, name: str = "tiny") -> Path:
    """<root>/<name>/pages/<id>.html.gz + gold.jsonl, in the shared corpus layout."""
    cdir = root / name
    (cdir / "pages").mkdir(parents=True)
    rows = []
    for pid in TINY_ARTICLES:
        (cdir / "pages" / f"{pid}.html.gz").write_bytes(
            gzip.compress(tiny_page(pid).encode("utf-8"))
        )
        row: dict = {"id": pid, "url": TINY_URLS[pid]}
        if pid == "b":  # snippet-style gold only
            row["with"] = [TINY_ARTICLES["b"][0][:60]]
            row["without"] = ["All rights reserved."]
        else:
            row["body"] = f"Story {pid}\n\n" + "\n\n".join(TINY_ARTICLES[pid])
        if pid == "c":
            row["related"] = [RELATED_C]
        rows.append(row)
    (cdir / "gold.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return cdir


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    return write_tiny_corpus(tmp_path_factory.mktemp("corpora"))
