"""Feature stage: the fast paths give the same numbers as the plain definitions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import AUTHORED_PAGES, SEED_PAGES

from classifier import features as F
from classifier.decode import parse
from classifier.segment import segment

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora"
CUE_SAMPLES = [
    "Become a Patron!", "Please donate today", "Support us on Ko-fi", "Jetzt spenden",
    "Unterstützen Sie unsere Arbeit", "Soutenez-nous : faire un don", "Hazte socio",
    "Already a subscriber? Log in to continue", "Subscribe to our newsletter", "Sign up",
    "Related posts", "You may also like", "Read more", "Lesen Sie auch", "Mehr zum Thema",
    "À lire aussi", "Voir aussi", "Artículos relacionados", "Te puede interesar",
    "Most read", "Next post", "(Visited 1 times, 1 visits today)", "1,234 views",
    "Aufrufe: 88", "Lu 532 fois", "Post Views: 1,234", "A plain paragraph about a harbour.",
]  # fmt: skip


def _texts() -> list[str]:
    pages = SEED_PAGES + sorted(AUTHORED_PAGES.glob("*.html"))
    return CUE_SAMPLES + [b.text for p in pages for b in segment(parse(p.read_bytes()))]


def test_cue_prefilter_never_hides_a_match():
    """The word-set check before each cue regex must not change any cue count."""
    texts = _texts()
    assert len(texts) > 1000
    for text in texts:
        words, row = F._text_stats(text)
        lower = text.lower()
        for name in ("donate", "related", "counter"):
            k = len(re.compile(F._CUE_PARTS[name].pattern).findall(lower))
            j = F.OWN.index("cue_" + name)
            assert row[j] == min(k, 5) / 5.0, (name, text)


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/corpora not available")
def test_cue_prefilter_on_corpus_pages():
    import gzip

    files = sorted((SHARED / "web2026-dev" / "pages").glob("*.html.gz"))[:60]
    for f in files:
        for b in segment(parse(gzip.decompress(f.read_bytes()))):
            _, row = F._text_stats(b.text)
            lower = b.text.lower()
            for name in ("donate", "related", "counter"):
                k = len(re.compile(F._CUE_PARTS[name].pattern).findall(lower))
                assert row[F.OWN.index("cue_" + name)] == min(k, 5) / 5.0, (name, b.text)


def test_best_common_matches_the_definition():
    for path in SEED_PAGES + sorted(AUTHORED_PAGES.glob("*.html"))[:10]:
        blocks = segment(parse(path.read_bytes()))
        best = F._best_container(blocks)
        if not best:
            continue
        depth = max(best.count("/"), 1)
        expected = [F._common_depth(b.xpath, best) / depth for b in blocks]
        assert F._best_common(blocks, best) == pytest.approx(expected)


def test_dense_and_dict_features_agree():
    blocks = segment(parse(SEED_PAGES[0].read_bytes()))
    feats = F.extract(blocks)
    dicts = feats.to_dicts()
    assert len(dicts) == len(blocks)
    for row, d in zip(feats.dense, dicts, strict=True):
        for j, name in enumerate(F.DENSE):
            assert d.get(name, 0.0) == row[j]
    assert any(k.startswith("anc=") for d in dicts for k in d)
