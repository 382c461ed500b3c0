"""Training labels for blocks: gold alignment, authored pages and stored hand labels.

Corpus pages come with gold article text, not block labels, so a block's label is
derived by aligning its words with the gold (like dragnet): most of its 4-word
shingles in the gold `body` -> content, almost none -> boilerplate, in between ->
unknown (left out of training). Pages with only `with`/`without` snippets label the
blocks that hold a snippet. Labels stored in ``training_data/labels/*.jsonl`` (by hand,
or corrections where a gold breaks LABELS.md) are keyed by block fingerprint (never by
text) and override the aligned ones.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .model import LABELS
from .segment import Block

_WORD = re.compile(r"\w+")
SOURCES = ("gold-aligned", "gold-corrected", "hand", "rule-reviewed", "authored")
# labels derived from the corpus gold (a correction keeps that trust; see train.kind_weights)
ALIGNED_SOURCES = ("gold-aligned", "gold-corrected")
# labels a person made or checked: they count TRUSTED_WEIGHT in training (train.py)
TRUSTED_SOURCES = ("hand", "authored", "rule-reviewed")


def project_root() -> Path:
    """The checkout holding training_data/ and models/: ours, else the working directory.

    After a non-editable `pip install .` the package lives in site-packages, but a user
    retraining works from a checkout (or their own project) with training_data/ in it.
    """
    here = Path(__file__).resolve().parent.parent
    return here if (here / "training_data").is_dir() else Path.cwd()


def norm_space(text: str) -> str:
    return " ".join(text.split())


def fingerprint(text: str) -> str:
    """A stable key for a block that does not store its text: hash of normalised text.

    The DOM path is deliberately left out: it shifts whenever a page template or our
    segmenter changes, while the text of a block does not.
    """
    key = norm_space(text).lower()
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def _shingles(tokens: Sequence[str], n: int = 4) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


def align_body(blocks: Sequence[Block], body: str) -> list[str | None]:
    """content / boilerplate / None (unsure) for each block, from the gold body."""
    gold_tokens = _WORD.findall(body.lower())
    gold = set(_shingles(gold_tokens))
    gold_text = " " + " ".join(gold_tokens) + " "
    out: list[str | None] = []
    for b in blocks:
        tokens = _WORD.findall(b.text.lower())
        if len(tokens) >= 4:
            sh = _shingles(tokens)
            frac = sum(1 for s in sh if s in gold) / len(sh)
            out.append("content" if frac >= 0.5 else "boilerplate" if frac <= 0.2 else None)
        elif tokens:
            found = (" " + " ".join(tokens) + " ") in gold_text
            if not found:
                out.append("boilerplate")
            else:  # a one-word block found in the gold proves little
                out.append("content" if len(tokens) >= 2 else None)
        else:
            out.append(None)
    return out


def _contains(block_text: str, snippets: Iterable[str]) -> bool:
    for s in snippets:
        if s and (s in block_text or (len(block_text) >= 40 and block_text in s)):
            return True
    return False


def align_snippets(
    blocks: Sequence[Block], with_: Sequence[str], without: Sequence[str]
) -> list[str | None]:
    """content for blocks holding a `with` snippet, boilerplate for `without`."""
    w = [norm_space(s) for s in with_ if norm_space(s)]
    wo = [norm_space(s) for s in without if norm_space(s)]
    out: list[str | None] = []
    for b in blocks:
        t = norm_space(b.text)
        if _contains(t, w):
            out.append("content")
        elif _contains(t, wo):
            out.append("boilerplate")
        else:
            out.append(None)
    return out


@dataclass(frozen=True)
class StoredLabel:
    corpus: str
    page: str
    fingerprint: str
    label: str
    source: str


def load_stored_labels(paths: Iterable[Path]) -> dict[tuple[str, str, str], StoredLabel]:
    """Read training_data/labels/*.jsonl files (or given files) keyed for lookup."""
    out: dict[tuple[str, str, str], StoredLabel] = {}
    for path in paths:
        files = sorted(Path(path).glob("*.jsonl")) if Path(path).is_dir() else [Path(path)]
        for f in files:
            for n, line in enumerate(f.read_text(encoding="utf-8").split("\n"), 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{f}:{n}: not valid JSON: {exc}") from exc
                label = row.get("label")
                if label not in LABELS:
                    raise ValueError(f"{f}:{n}: unknown label {label!r}; known: {LABELS}")
                source = row.get("source", "hand")
                if source not in SOURCES:
                    raise ValueError(f"{f}:{n}: unknown source {source!r}; known: {SOURCES}")
                lab = StoredLabel(
                    str(row["corpus"]), str(row["id"]), row["fingerprint"], label, source
                )
                out[(lab.corpus, lab.page, lab.fingerprint)] = lab
    return out


def apply_stored(
    corpus: str,
    page_id: str,
    blocks: Sequence[Block],
    labels: list[str | None],
    sources: list[str],
    stored: dict[tuple[str, str, str], StoredLabel],
) -> None:
    """Let stored labels for (corpus, page) override `labels`/`sources` in place.

    Authored pages use this too, so `classifier label` can correct their inline labels.
    """
    if not stored:
        return
    for i, b in enumerate(blocks):
        hit = stored.get((corpus, page_id, fingerprint(b.text)))
        if hit is not None:
            labels[i] = hit.label
            sources[i] = hit.source


def page_labels(
    corpus: str,
    gold: dict,
    blocks: Sequence[Block],
    stored: dict[tuple[str, str, str], StoredLabel],
) -> tuple[list[str | None], list[str]]:
    """Labels and their sources for one corpus page's blocks."""
    n = len(blocks)
    labels: list[str | None] = [None] * n
    if gold.get("body"):
        labels = align_body(blocks, gold["body"])
    if gold.get("with") or gold.get("without"):
        snip = align_snippets(blocks, gold.get("with") or [], gold.get("without") or [])
        labels = [s if s is not None and (lab is None or s == "boilerplate") else lab
                  for lab, s in zip(labels, snip, strict=True)]  # fmt: skip
    sources = ["gold-aligned"] * n
    # googlenews: the annotators' "related content" spans
    related = [norm_space(s) for s in gold.get("related") or [] if len(norm_space(s)) >= 15]
    if related:
        for i, b in enumerate(blocks):
            if labels[i] != "content" and _contains(norm_space(b.text), related):
                labels[i] = "related_links"
    page_id = str(gold.get("id"))
    if stored:
        for i, b in enumerate(blocks):
            hit = stored.get((corpus, page_id, fingerprint(b.text)))
            if hit is not None:
                labels[i] = hit.label
                sources[i] = hit.source
    return labels, sources


def match_text_label(blocks: Sequence[Block], text: str, label: str | None = None) -> list[int]:
    """Indices of our blocks that a text-keyed label covers (segmenters cut differently).

    A block matches when its text equals the label text or holds it as most of its own
    text. A block that is only a piece of the label text (our segmenter split the
    labelled box) matches when it is a fair share of it and cannot be confused with
    another block: a stored label is keyed by text, so a piece that recurs on the page
    ("Mitteldeutschland" in the counter line and in four menus) would label every copy
    (a headline of four words or more may recur: teaser boxes repeat headlines);
    and a piece of a counter must hold a number or a counter word, since the title
    beside "61,783,588 views" is not a counter.
    """
    want = norm_space(text).lower()
    if not want:
        return []
    texts = [norm_space(b.text).lower() for b in blocks]
    seen: dict[str, int] = {}
    for have in texts:
        seen[have] = seen.get(have, 0) + 1
    def piece(have: str) -> bool:
        return (
            have in want
            and len(have) >= min(12, len(want))
            and (seen[have] == 1 or (label == "related_links" and len(_WORD.findall(have)) >= 4))
            and (label != "counter_widget" or _COUNTER_PIECE.search(have) is not None)
        )

    return [i for i, have in enumerate(texts) if have and (
        have == want or (want in have and len(want) >= 0.5 * len(have)) or piece(have))]


# a piece of a counter line that is itself a counter: a digit or a counting word
_COUNTER_PIECE = re.compile(r"\d|view|visit|aufruf|gelesen|vues|lecturas|hits|replies")


def import_text_labels(
    rows: Iterable[dict], corpora_dir: Path, source: str = "hand"
) -> tuple[list[dict], int]:
    """Turn labels keyed by block text into fingerprint records for training_data/labels.

    Returns (records, number of input rows that matched no block). The text itself is
    not kept: only corpus, page id, fingerprint, label and source.
    """
    import gzip

    from .decode import parse
    from .segment import segment

    by_page: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        by_page.setdefault((str(row["corpus"]), str(row["id"])), []).append(row)
    records: dict[tuple[str, str, str], dict] = {}
    missed = 0
    for (corpus, page_id), page_rows in sorted(by_page.items()):
        path = Path(corpora_dir) / corpus / "pages" / f"{page_id}.html.gz"
        if not path.is_file():
            missed += len(page_rows)
            continue
        blocks = segment(parse(gzip.decompress(path.read_bytes())))
        # longer label texts first, so a short label inside a long box wins its block
        for row in sorted(page_rows, key=lambda r: -len(r["text"])):
            hits = match_text_label(blocks, row["text"], row["label"])
            if not hits:
                missed += 1
            for i in hits:
                fp = fingerprint(blocks[i].text)
                records[(corpus, page_id, fp)] = {
                    "corpus": corpus, "id": page_id, "fingerprint": fp,
                    "label": row["label"], "source": row.get("source", source),
                }  # fmt: skip
    return list(records.values()), missed
