"""Evaluation stage: score an extractor on a corpus with the project's two metrics.

Corpora live in ``<corpus>/pages/<id>.html.gz`` (raw bytes, gzip) plus
``<corpus>/gold.jsonl``. Only ``<id>.html.gz`` for ids listed in gold.jsonl is read, so
extra files such as googlenews' ``<id>.annotated.html.gz`` are ignored.

The held-out evaluation recomputes both metrics independently, so they follow their
reference implementations detail for detail (checked against the sources, not copied):

**Shingle F1** -- the scrapinghub article-extraction-benchmark (``evaluate.py``):

* tokens are ``re.findall(r"\\w+", text)``, case kept (no lower-casing);
* shingles are all runs of 4 consecutive tokens, counted as a multiset. A text with 1-3
  tokens yields a single shorter shingle made of all its tokens; an empty text (no
  tokens) yields none;
* per page: tp = sum of min(count_pred, count_gold), fp = the excess in the prediction,
  fn = the excess in the gold; the three are divided by their sum (left at 0, 0, 0 when
  both texts are empty) so long pages do not weigh more;
* per-page precision = tp / (tp + fp), recall = tp / (tp + fn). A page enters the
  precision mean only if tp + fp > 0 (the prediction has a shingle) and the recall mean
  only if tp + fn > 0 (the gold has one). So an empty output (including an extractor
  error) does not lower precision but scores recall 0;
* precision and recall are the means over those pages, F1 = 2PR / (P + R) of the means.
  (The benchmark would crash if no page qualified; here such a mean is 0.0.)

**Snippet F1** -- trafilatura's ``tests/eval_common.py`` (``norm`` / ``count_item``):

* output and snippets are whitespace-normalised with ``re.sub(r"\\s+", " ", t).strip()``;
  nothing else (case and punctuation are kept), then a plain substring test;
* tp = ``with`` snippets found, fn = ``with`` snippets missing, fp = ``without`` snippets
  found; summed over the corpus (micro average); a failed extraction finds nothing;
* P = tp / (tp + fp), R = tp / (tp + fn), F1 = 2tp / (2tp + fp + fn), each 0.0 when its
  denominator is 0 (identical to the harmonic mean of P and R otherwise).
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

Extractor = Callable[[bytes, str | None], str]
"""``extract(raw_page_bytes, url_or_None) -> extracted text``."""

SHINGLE_SIZE = 4
_TOKEN_RE = re.compile(r"\w+")
_WHITESPACE_RE = re.compile(r"\s+")


# --------------------------------------------------------------------------- shingle F1


def _shingles(text: str, size: int = SHINGLE_SIZE) -> Counter[tuple[str, ...]]:
    """Multiset of token shingles; short texts give one short shingle, as the benchmark."""
    tokens = _TOKEN_RE.findall(text or "")
    if not tokens:
        return Counter()
    if len(tokens) < size:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def shingle_counts(pred: str, gold: str) -> tuple[float, float, float]:
    """Normalised (tp, fp, fn) for one page, so every page weighs the same in the means."""
    pred_sh = _shingles(pred)
    gold_sh = _shingles(gold)
    tp = sum((pred_sh & gold_sh).values())
    fp = sum((pred_sh - gold_sh).values())
    fn = sum((gold_sh - pred_sh).values())
    total = tp + fp + fn
    if total == 0:
        return 0.0, 0.0, 0.0
    return tp / total, fp / total, fn / total


def shingle_scores(
    counts: Iterable[tuple[float, float, float]],
) -> tuple[float, float, float]:
    """Macro precision, recall, F1 over pages, skipping undefined per-page values."""
    precisions: list[float] = []
    recalls: list[float] = []
    for tp, fp, fn in counts:
        if tp + fp > 0:  # the prediction had text: precision is defined
            precisions.append(tp / (tp + fp))
        if tp + fn > 0:  # the gold had text: recall is defined
            recalls.append(tp / (tp + fn))
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1


# --------------------------------------------------------------------------- snippet F1


def _normalise_ws(text: str) -> str:
    """Collapse whitespace runs so line-wrapping differences never cost a snippet."""
    return _WHITESPACE_RE.sub(" ", text).strip()


def snippet_counts(pred: str, with_: list[str], without: list[str]) -> tuple[int, int, int]:
    """(tp, fp, fn) for one page: which gold snippets the output does / must not contain."""
    output = _normalise_ws(pred or "")
    tp = sum(1 for snippet in with_ if _normalise_ws(snippet) in output)
    fp = sum(1 for snippet in without if _normalise_ws(snippet) in output)
    return tp, fp, len(with_) - tp


def snippet_scores(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Micro precision, recall, F1 from corpus-wide sums (0.0 for an empty denominator)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return precision, recall, f1


# --------------------------------------------------------------------------- corpus runs


@dataclass
class CorpusReport:
    """One extractor on one corpus; a metric is None when the corpus has no gold for it."""

    corpus: str
    pages: int
    shingle_precision: float | None
    shingle_recall: float | None
    shingle_f1: float | None
    snippet_precision: float | None
    snippet_recall: float | None
    snippet_f1: float | None
    ms_per_page: float
    errors: int

    def to_dict(self) -> dict[str, Any]:
        """Fields except ``corpus``, which callers use as the key (e.g. in a JSON report)."""
        data = asdict(self)
        del data["corpus"]
        return data


def label_scores(pairs: Iterable[tuple[str, str]]) -> dict[str, dict[str, float]]:
    """Per-label precision, recall and F1 of (true, predicted) block labels.

    Only labels that occur as true or predicted appear; ``blocks`` is the true count.
    """
    pairs = list(pairs)
    labels = sorted({t for t, _ in pairs} | {p for _, p in pairs})
    out = {}
    for lab in labels:
        tp = sum(1 for t, p in pairs if t == lab and p == lab)
        n_true = sum(1 for t, _ in pairs if t == lab)
        n_pred = sum(1 for _, p in pairs if p == lab)
        prec = tp / n_pred if n_pred else 0.0
        rec = tp / n_true if n_true else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[lab] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4),
                    "blocks": n_true}  # fmt: skip
    return out


def non_content_dropped(pairs: Iterable[tuple[str, str]]) -> dict[str, float] | None:
    """How many truly non-content blocks the cleaner leaves out of the text.

    The cleaned text holds the blocks labelled content, so a block that is an appeal,
    related box, counter or boilerplate is absent unless it was called content
    (whichever wrong non-content kind it got). None when no such block was scored.
    """
    flags = [p != "content" for t, p in pairs if t != "content"]
    if not flags:
        return None
    return {"share": round(sum(flags) / len(flags), 4), "blocks": len(flags)}


def load_gold(corpus_dir: Path) -> list[dict]:
    """Gold records in file order (the order fixes which pages ``limit`` picks)."""
    path = Path(corpus_dir) / "gold.jsonl"
    records = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            record = json.loads(line)
            if "id" not in record:
                raise ValueError(f"{path}:{line_no}: gold record without an 'id'")
            records.append(repair_gold(record))
    return records


def repair_gold(record: dict) -> dict:
    """The record with UTF-16 text that was decoded byte by byte made readable again.

    A few gold files were UTF-16 and reached gold.jsonl as "\ufffd\ufffdP\x00a\x00u\x00":
    scored as is, every page is a miss for every extractor and its training labels
    align to nothing. Dropping the NULs recovers the ASCII text (other letters stay
    replacement characters, which shingles treat as word breaks).
    """
    fixed = dict(record)
    for key in ("body", "with", "without"):
        value = record.get(key)
        if isinstance(value, str):
            fixed[key] = _undo_utf16(value)
        elif isinstance(value, list):
            fixed[key] = [_undo_utf16(v) if isinstance(v, str) else v for v in value]
    return fixed


def _undo_utf16(text: str) -> str:
    if text.count("\x00") * 4 < len(text):  # a stray NUL is not a UTF-16 file
        return text
    return text.replace("\x00", "").lstrip("\ufffd\ufeff")


def read_page(corpus_dir: Path, page_id: str) -> bytes:
    """Raw page bytes exactly as crawled; decoding is the extractor's job, as in a scraper."""
    return gzip.decompress((Path(corpus_dir) / "pages" / f"{page_id}.html.gz").read_bytes())


def _spread(records: list[dict], limit: int | None) -> list[dict]:
    """``limit`` records evenly spaced over the file, so a small sample still mixes sites."""
    if limit is None or limit >= len(records):
        return list(records)
    if limit < 1:
        raise ValueError(f"limit must be a positive number of pages, got {limit}")
    return [records[i * len(records) // limit] for i in range(limit)]


def _progress(items: list[dict], label: str, enabled: bool) -> Iterator[dict]:
    """Yield items while drawing a progress bar on stderr (rich if importable)."""
    if not enabled:
        yield from items
        return
    try:
        from rich.console import Console
        from rich.progress import track
    except ImportError:
        total = len(items)
        step = max(1, total // 50)
        for done, item in enumerate(items, 1):
            yield item
            if done % step == 0 or done == total:
                print(f"\r{label}: {done}/{total}", end="", file=sys.stderr, flush=True)
        if total:
            print(file=sys.stderr)
        return
    yield from track(items, description=label, console=Console(stderr=True))


def evaluate_corpus(
    corpus_dir: Path,
    extract: Extractor,
    limit: int | None = None,
    progress: bool = True,
    after_page: Callable[[dict], None] | None = None,
) -> CorpusReport:
    """Run ``extract`` on every (or ``limit`` spread-out) gold page and score the output.

    Only the extract call is timed. An exception in it counts in ``errors`` and the page
    is scored as empty output rather than skipped, so a crashing extractor loses score.
    ``after_page(record)`` runs after each page (e.g. to score block labels).
    """
    corpus_dir = Path(corpus_dir)
    records = _spread(load_gold(corpus_dir), limit)

    shingle_pages: list[tuple[float, float, float]] = []
    snip_tp = snip_fp = snip_fn = 0
    has_snippets = False
    errors = 0
    seconds = 0.0

    for record in _progress(records, corpus_dir.name, progress):
        try:
            raw = read_page(corpus_dir, record["id"])
        except (OSError, EOFError, zlib.error) as exc:  # a missing or damaged page file
            raw = b""
            logger.warning("%s/%s: cannot read page: %s", corpus_dir.name, record["id"], exc)
        start = time.perf_counter()
        try:
            output = extract(raw, record.get("url"))
        except Exception as exc:  # any extractor failure is scored, not fatal
            output = ""
            errors += 1
            log = logger.warning if errors == 1 else logger.debug
            log(
                "%s/%s: extractor raised %s: %s",
                corpus_dir.name,
                record["id"],
                type(exc).__name__,
                exc,
            )
        seconds += time.perf_counter() - start
        if output is None:  # tolerated: several libraries return None for "nothing found"
            output = ""
        elif not isinstance(output, str):
            errors += 1
            logger.debug(
                "%s/%s: extractor returned %s, not str",
                corpus_dir.name,
                record["id"],
                type(output).__name__,
            )
            output = ""

        if after_page is not None:
            after_page(record)
        if isinstance(record.get("body"), str):
            shingle_pages.append(shingle_counts(output, record["body"]))
        with_ = record.get("with") or []
        without = record.get("without") or []
        if with_ or without:
            has_snippets = True
            tp, fp, fn = snippet_counts(output, with_, without)
            snip_tp += tp
            snip_fp += fp
            snip_fn += fn

    sh_p = sh_r = sh_f = None
    if shingle_pages:
        sh_p, sh_r, sh_f = shingle_scores(shingle_pages)
    sn_p = sn_r = sn_f = None
    if has_snippets:
        sn_p, sn_r, sn_f = snippet_scores(snip_tp, snip_fp, snip_fn)

    return CorpusReport(
        corpus=corpus_dir.name,
        pages=len(records),
        shingle_precision=sh_p,
        shingle_recall=sh_r,
        shingle_f1=sh_f,
        snippet_precision=sn_p,
        snippet_recall=sn_r,
        snippet_f1=sn_f,
        ms_per_page=1000 * seconds / len(records) if records else 0.0,
        errors=errors,
    )


# --------------------------------------------------------------------------- peers


def trafilatura_extractor() -> Extractor:
    """trafilatura with the settings used for ANCHORS.md, as the reference to beat.

    trafilatura is an optional extra, so it is imported only when asked for.
    """
    try:
        import trafilatura
    except ImportError as exc:
        raise RuntimeError(
            "comparing with trafilatura needs the optional extra: "
            f"pip install 'boilerplate-classifier[compare]' (import failed: {exc})"
        ) from exc
    from bs4 import UnicodeDammit

    def extract(raw: bytes, url: str | None) -> str:
        # is_html: honour the page's <meta charset>, as a browser does. Without it
        # UnicodeDammit guesses more pages wrong and trafilatura-dev snippet F1 drops
        # from 0.9235 to 0.9218 (ANCHORS.md: 0.924).
        html = UnicodeDammit(raw, is_html=True).unicode_markup
        if html is None:  # UnicodeDammit found no workable encoding
            html = raw.decode("utf-8", errors="replace")
        return trafilatura.extract(html, include_comments=False, include_tables=True) or ""

    return extract
