"""CI accuracy gate: score an even spread of pages per corpus, fail below pinned floors.

Floors live in .ci/accuracy-floors.json. Raise them as the model improves; never
lower them to make CI pass. Skipped (exit 0) when ../shared/corpora is absent.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from classifier import Cleaner
from classifier.evaluate import evaluate_corpus

ROOT = Path(__file__).resolve().parent.parent
CORPORA = ROOT.parent / "shared" / "corpora"
FLOORS = json.loads((Path(__file__).parent / "accuracy-floors.json").read_text())


def main() -> int:
    if not CORPORA.is_dir():
        print(f"accuracy gate: {CORPORA} not present, skipped")
        return 0
    cleaner = Cleaner()
    failed = []
    for corpus, spec in FLOORS["corpora"].items():
        cdir = CORPORA / corpus
        if not cdir.is_dir():
            print(f"accuracy gate: {corpus} missing, skipped")
            continue
        rep = evaluate_corpus(
            cdir, lambda b, u: cleaner.clean(b, url=u).text, limit=spec["pages"], progress=False
        ).to_dict()
        value = rep[spec["metric"]]
        ok = value is not None and value >= spec["floor"] and rep["errors"] == 0
        print(f"{corpus:<18} {spec['metric']:<11} {value:.4f} (floor {spec['floor']:.4f}) "
              f"pages {rep['pages']} errors {rep['errors']} {'ok' if ok else 'FAIL'}")
        if not ok:
            failed.append(corpus)
    if failed:
        print(f"accuracy gate FAILED on {failed}")
        return 1
    print("accuracy gate passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
