"""Speed benchmark: ms per page for each stage, and trafilatura on the same pages.

    python .ci/benchmark.py [CORPUS_DIR] [--pages N]

Pages are read into memory first; each stage is timed over all pages, one core,
after one warm-up page. Not a test: speed is measured, never asserted.
"""

from __future__ import annotations

import argparse
import gzip
import time
from pathlib import Path

from classifier.decode import parse
from classifier.features import extract
from classifier.model import default_model
from classifier.segment import segment

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "web2026-dev"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--pages", type=int, default=200)
    args = ap.parse_args()
    files = sorted((args.corpus / "pages").glob("*.html.gz"))
    files = [f for f in files if not f.name.endswith(".annotated.html.gz")][: args.pages]
    if not files:
        raise SystemExit(f"no pages under {args.corpus}/pages")
    raw = [gzip.decompress(f.read_bytes()) for f in files]
    start = time.perf_counter()
    model = default_model()
    load_ms = (time.perf_counter() - start) * 1000
    model.label_blocks(segment(parse(raw[0])))  # warm-up

    def timed(fn, items):
        t = time.perf_counter()
        out = [fn(x) for x in items]
        return out, (time.perf_counter() - t) * 1000 / len(items)

    trees, t_parse = timed(parse, raw)
    blocks, t_seg = timed(segment, trees)
    _, t_feat = timed(extract, blocks)
    fresh = [segment(t) for t in trees]
    _, t_model = timed(model.label_blocks, fresh)
    print(f"{len(raw)} pages of {args.corpus.name}, model load {load_ms:.0f} ms")
    print(f"decode+parse {t_parse:6.2f} ms/page")
    print(f"segment      {t_seg:6.2f} ms/page")
    print(f"features     {t_feat:6.2f} ms/page")
    print(f"model        {t_model:6.2f} ms/page (features + both passes)")
    total = t_parse + t_seg + t_model
    print(f"total        {total:6.2f} ms/page")
    try:
        import trafilatura
        from bs4 import UnicodeDammit
    except ImportError:
        print("trafilatura not installed: pip install '.[compare]' to compare")
        return
    texts = [UnicodeDammit(r, is_html=True).unicode_markup or "" for r in raw]
    _, t_traf = timed(
        lambda h: trafilatura.extract(h, include_comments=False, include_tables=True), texts
    )
    print(f"trafilatura  {t_traf:6.2f} ms/page ({t_traf / total:.1f}x our time)")


if __name__ == "__main__":
    main()
