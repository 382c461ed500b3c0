"""Speed benchmark: our time per page by stage, and trafilatura's on the same pages.

Both run in this process, one page after the other (interleaved), so that machine load
and CPU frequency hit both alike; the process is pinned to one core. Pages are read
into memory first, so disk time counts for neither.
"""

from __future__ import annotations

import contextlib
import os
import resource
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .clean import Page
from .decode import parse_markup, to_markup
from .evaluate import load_gold, read_page
from .features import extract
from .model import Model, settle_garbage_collector
from .segment import first_headline, page_title, segment

STAGES = ("decode", "parse", "segment", "features", "predict", "render")


@dataclass
class BenchResult:
    """Per-page timings (ms) of each system, in page order."""

    pages: int
    stages: dict[str, list[float]] = field(default_factory=dict)
    systems: dict[str, list[float]] = field(default_factory=dict)
    peak_rss_mb: float = 0.0
    cpu: int | None = None

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for name, ms in self.systems.items():
            a = np.asarray(ms)
            out[name] = {
                "pages_per_s": round(1000 * len(a) / max(a.sum(), 1e-9), 1),
                "ms_mean": round(float(a.mean()), 2),
                "ms_median": round(float(np.median(a)), 2),
                "ms_p95": round(float(np.percentile(a, 95)), 2),
            }
        return out

    def to_dict(self) -> dict:
        summary = self.summary()
        d: dict = {"pages": self.pages, "cpu": self.cpu, "peak_rss_mb": self.peak_rss_mb,
                   "stages_ms_mean": {k: round(float(np.mean(v)), 3)
                                      for k, v in self.stages.items()},  # fmt: skip
                   **summary}  # fmt: skip
        if "trafilatura" in summary:
            d["time_ratio"] = round(
                summary["classifier"]["ms_mean"] / summary["trafilatura"]["ms_mean"], 3
            )
        return d


def load_pages(corpus_dirs: Sequence[Path], limit: int | None) -> list[bytes]:
    """Raw bytes of up to `limit` pages per corpus, spread evenly over each."""
    pages = []
    for cdir in corpus_dirs:
        ids = [r["id"] for r in load_gold(cdir)]
        if limit and limit < len(ids):
            ids = [ids[i * len(ids) // limit] for i in range(limit)]
        for pid in ids:
            try:
                pages.append(read_page(cdir, pid))
            except (OSError, EOFError):
                continue
    return pages


@contextlib.contextmanager
def one_core() -> Iterator[int | None]:
    """Run on one core while timing (the speed target is per core), then give the
    process its cores back; yields the core, or None where unsupported."""
    try:
        before = os.sched_getaffinity(0)
        cpu = sorted(before)[-1]
        os.sched_setaffinity(0, {cpu})
    except (AttributeError, OSError):
        yield None
        return
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, before)


def _ours(model: Model, raw: bytes, clock: Callable[[], float]) -> dict[str, float]:
    """Clean one page stage by stage, as `Cleaner.clean` does; ms per stage."""
    t = [clock()]
    markup = to_markup(raw)
    t.append(clock())
    root = parse_markup(markup)
    t.append(clock())
    blocks = segment(root)
    t.append(clock())
    doc_title = page_title(root, headline=False)
    feats = extract(blocks, doc_title)
    t.append(clock())
    if blocks:
        model.label_features(blocks, feats)
    t.append(clock())
    page = Page(title=doc_title or first_headline(root), blocks=blocks)
    _ = page.text
    t.append(clock())
    return {s: (t[i + 1] - t[i]) * 1000 for i, s in enumerate(STAGES)}


def trafilatura_extract() -> Callable[[bytes], object]:
    """trafilatura as users call it for article text (the optional [compare] extra)."""
    try:
        import trafilatura
    except ImportError as exc:
        raise RuntimeError(
            "trafilatura is not installed: pip install 'boilerplate-classifier[compare]'"
        ) from exc

    def run(raw: bytes) -> object:
        return trafilatura.extract(raw, include_comments=False, include_tables=True)

    return run


def run_bench(
    pages: Sequence[bytes],
    model: Model,
    compare: bool = True,
    progress: Callable[[int], None] | None = None,
) -> BenchResult:
    """Time every page with us and (if `compare`) trafilatura, interleaved."""
    with one_core() as cpu:
        other = trafilatura_extract() if compare else None
        clock = time.perf_counter
        result = BenchResult(pages=len(pages), cpu=cpu, stages={s: [] for s in STAGES},
                             systems={"classifier": []})  # fmt: skip
        if other:
            result.systems["trafilatura"] = []
        if pages:  # warm-up: imports, caches and lazy compiles are not per-page costs
            _ours(model, pages[0], clock)
            if other:
                other(pages[0])
        settle_garbage_collector()  # after both imports: the same collector state for both
        for i, raw in enumerate(pages):
            stages = _ours(model, raw, clock)
            for s, ms in stages.items():
                result.stages[s].append(ms)
            result.systems["classifier"].append(sum(stages.values()))
            if other:
                start = clock()
                with contextlib.suppress(Exception):  # a failing page still took its time
                    other(raw)
                result.systems["trafilatura"].append((clock() - start) * 1000)
            if progress:
                progress(i + 1)
    result.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def format_bench(result: BenchResult) -> str:
    """The table `classifier bench` prints."""
    lines = [f"{result.pages} pages, one core (cpu {result.cpu}), "
             f"peak RSS {result.peak_rss_mb:.0f} MB (whole process)", ""]  # fmt: skip
    lines.append(f"{'system':<12} {'pages/s':>8} {'mean ms':>8} {'median':>8} {'p95':>8}")
    for name, row in result.summary().items():
        lines.append(f"{name:<12} {row['pages_per_s']:>8.1f} {row['ms_mean']:>8.2f} "
                     f"{row['ms_median']:>8.2f} {row['ms_p95']:>8.2f}")  # fmt: skip
    d = result.to_dict()
    if "time_ratio" in d:
        lines.append(f"\nour time per page is {d['time_ratio']:.2f}x trafilatura's (mean)")
    lines.append("\nstage        mean ms  share")
    total = sum(d["stages_ms_mean"].values()) or 1.0
    for s, ms in d["stages_ms_mean"].items():
        lines.append(f"{s:<12} {ms:>7.2f} {100 * ms / total:>5.0f}%")
    return "\n".join(lines)
