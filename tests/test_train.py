"""Training: a tiny model from the authored pages, its card, persistence and determinism.

Every model here is trained into a temporary directory; the shipped model is untouched.
"""

from __future__ import annotations

import json
from collections import Counter

import joblib
import numpy as np
import pytest
from conftest import AUTHORED_PAGES, SEED_PAGES, TINY_ARTICLES, train_tiny

from classifier.decode import parse
from classifier.features import extract, page_features
from classifier.labels import fingerprint
from classifier.model import LABELS, Model, ModelError
from classifier.segment import page_title, segment


def authored_blocks():
    """(path, blocks, title) of each authored page, the title as training reads it."""
    for path in sorted(AUTHORED_PAGES.glob("*.html")):
        root = parse(path.read_bytes())
        yield path, segment(root), page_title(root, headline=False)


def test_train_writes_model_and_card(trained):
    assert trained.path.is_file()
    card_path = trained.path.with_suffix(".card.json")
    assert card_path.is_file()
    card = json.loads(card_path.read_text(encoding="utf-8"))
    assert card == json.loads(json.dumps(trained.model.card))  # the card on disk is complete
    assert card["labels"] == list(LABELS)
    assert card["features"]["count"] == len(trained.model.pipeline.named_steps["vec"].vocabulary_)
    n_pages = len(list(AUTHORED_PAGES.glob("*.html")))
    data = card["training_data"]
    assert data["pages"] == {"authored": n_pages}
    assert set(data["labels"]) == set(LABELS)  # the authored pages show every kind
    assert 0 < sum(data["labels"].values()) <= data["blocks"]
    assert all(k.startswith("authored / authored / ") for k in data["by_corpus_source_label"])
    versions = card["library_versions"]
    assert {"python", "scikit-learn", "numpy", "lxml"} <= set(versions)
    assert card["seed"] == 0
    test = card["metrics"]["blocks_site_disjoint_test"]
    dropped, cm = test["non_content_dropped"], test["confusion"]
    labels, matrix = cm["labels"], cm["matrix"]
    # the confusion matrix's non-content rows, minus those predicted content
    c = labels.index("content")
    rows = [r for lab, r in zip(labels, matrix, strict=True) if lab != "content"]
    assert dropped["blocks"] == sum(map(sum, rows)) > 0
    assert dropped["share"] == round(1 - sum(r[c] for r in rows) / dropped["blocks"], 4)
    assert any(line.startswith("saved ") for line in trained.logs)


def test_loaded_model_predicts_its_training_labels(trained):
    model = Model.load(trained.path)
    assert model.labels == list(LABELS)
    per_page = {}
    right = total = 0
    for path, blocks, title in authored_blocks():
        model.label_blocks(blocks, title=title)
        ok = sum(b.label == (b.gold or "boilerplate") for b in blocks)
        per_page[path.name] = ok / len(blocks)
        right += ok
        total += len(blocks)
    assert right / total >= 0.9
    assert min(per_page.values()) >= 0.8, per_page


def test_weight_table_scores_match_the_sklearn_pipeline(trained):
    """The fast scoring path is the fitted pipeline, not an approximation of it."""
    model = trained.model
    assert model.weights is not None
    steps = model.pipeline.named_steps
    for path in SEED_PAGES + sorted(AUTHORED_PAGES.glob("*.html"))[:5]:
        root = parse(path.read_bytes())
        title = page_title(root, headline=False)
        feats = extract(segment(root), title)
        X = steps["scale"].transform(steps["vec"].transform(page_features(
            segment(root), title)))  # fmt: skip
        fast, evidence = model.first_pass(feats)
        np.testing.assert_allclose(fast, steps["clf"].predict_proba(X), atol=1e-9)
        np.testing.assert_allclose(evidence, steps["clf"].special_evidence(X), atol=1e-9)


def test_save_load_round_trip_gives_identical_probabilities(trained):
    loaded = Model.load(trained.path)
    assert "load_seconds" in loaded.card["runtime"]
    assert (loaded.reviser is None) == (trained.model.reviser is None)
    assert trained.model.kind_reviser is not None
    assert loaded.kind_reviser is not None and loaded.weights.kind_reviser is not None
    for path in SEED_PAGES + sorted(AUTHORED_PAGES.glob("*.html"))[:2]:
        html = path.read_bytes()
        feats = extract(segment(parse(html)))
        before = trained.model.first_pass(feats)[0]
        after = loaded.first_pass(feats)[0]
        assert before.shape == (len(feats), len(LABELS))
        assert np.array_equal(before, after)
        np.testing.assert_allclose(after.sum(axis=1), 1.0)
        # the whole labelling, second pass included
        a = trained.model.label_blocks(segment(parse(html)))
        b = loaded.label_blocks(segment(parse(html)))
        assert [(x.label, x.confidence) for x in a] == [(x.label, x.confidence) for x in b]


@pytest.fixture(scope="module")
def again(tmp_path_factory):
    """A second run with the same seed and data, naming a corpus directory that is absent."""
    tmp = tmp_path_factory.mktemp("again")
    return tmp / "no-such-corpus", train_tiny(
        tmp / "again.joblib", corpora=[tmp / "no-such-corpus"]
    )


def test_same_seed_gives_the_same_model(trained, again):
    _, run = again
    a = trained.model.pipeline.named_steps
    b = run.model.pipeline.named_steps
    assert a["vec"].vocabulary_ == b["vec"].vocabulary_
    assert np.array_equal(a["scale"].scale_, b["scale"].scale_)
    for part in ("main_", "kind_"):
        ma, mb = getattr(a["clf"], part), getattr(b["clf"], part)
        assert np.array_equal(ma.coef_, mb.coef_)
        assert np.array_equal(ma.intercept_, mb.intercept_)
    ra, rb = trained.model.reviser, run.model.reviser
    assert (ra is None) == (rb is None)
    if ra is not None:
        assert np.array_equal(ra.coef_, rb.coef_)
        assert np.array_equal(ra.intercept_, rb.intercept_)
    assert run.model.card["metrics"] == trained.model.card["metrics"]
    assert run.model.card["training_data"] == trained.model.card["training_data"]


def test_missing_corpus_is_skipped_with_a_message(again):
    missing, run = again
    skipped = [line for line in run.logs if "skipping corpus" in line]
    assert len(skipped) == 1 and str(missing) in skipped[0]
    assert run.model.card["training_data"]["pages"] == {
        "authored": len(list(AUTHORED_PAGES.glob("*.html")))
    }
    assert run.path.is_file()


def test_corpus_pages_and_stored_labels_are_used(tmp_path, tiny_corpus):
    # a stored hand label for the first paragraph of corpus page "b" overrides alignment
    fp = fingerprint(TINY_ARTICLES["b"][0])
    labels = tmp_path / "labels.jsonl"
    row = {"corpus": "tiny", "id": "b", "fingerprint": fp, "label": "donation_appeal",
           "source": "hand"}  # fmt: skip
    labels.write_text(json.dumps(row) + "\n")
    run = train_tiny(tmp_path / "m.joblib", corpora=[tiny_corpus], label_paths=[labels])
    data = run.model.card["training_data"]
    assert data["pages"]["tiny"] == len(TINY_ARTICLES)
    by = data["by_corpus_source_label"]
    assert by["tiny / hand / donation_appeal"] == 1
    assert by["tiny / gold-aligned / content"] >= 5
    assert by["tiny / gold-aligned / boilerplate"] >= 5
    assert any("stored labels: 1" in line for line in run.logs)


def test_card_min_df_is_the_one_applied(trained):
    df: Counter[str] = Counter()
    for _, blocks, title in authored_blocks():
        for feats in page_features(blocks, title):
            df.update(name for name, value in feats.items() if value)
    vocab = trained.model.pipeline.named_steps["vec"].vocabulary_
    rarest = min(df[name] for name in vocab)
    assert rarest >= trained.model.card["features"]["min_df"]


# ------------------------------------------------------------------------ load errors


def test_load_missing_file(tmp_path):
    with pytest.raises(ModelError, match="model file not found") as info:
        Model.load(tmp_path / "nope.joblib")
    assert "nope.joblib" in str(info.value)


@pytest.mark.parametrize("obj", [{"something": "else"}, [1, 2, 3], "a string"])
def test_load_a_joblib_that_is_not_a_model(tmp_path, obj):
    path = tmp_path / "other.joblib"
    joblib.dump(obj, path)
    with pytest.raises(ModelError, match="not a boilerplate-classifier model"):
        Model.load(path)


def test_load_a_file_that_is_not_joblib(tmp_path):
    path = tmp_path / "page.joblib"
    path.write_text("<html><body>definitely not a pickle</body></html>")
    with pytest.raises(ModelError, match="cannot load model"):
        Model.load(path)


def test_cleaning_with_a_saved_model_never_imports_scikit_learn(trained):
    """Scrapers pay for imports: a saved model is scored from its weight table alone."""
    import subprocess
    import sys

    code = (
        "import sys; from classifier import Cleaner; "
        f"c = Cleaner(model={str(trained.path)!r}); "
        f"c.clean(open({str(SEED_PAGES[0])!r}, 'rb').read()); "
        "print('sklearn' in sys.modules, 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()  # fmt: skip
    assert out == ["False", "False"]


def test_the_packed_pipeline_comes_back_whole(trained):
    loaded = Model.load(trained.path)
    a, b = trained.model.pipeline.named_steps, loaded.pipeline.named_steps
    assert a["vec"].vocabulary_ == b["vec"].vocabulary_
    np.testing.assert_allclose(a["clf"].kind_.coef_, b["clf"].kind_.coef_, atol=1e-12)
    np.testing.assert_allclose(a["clf"].main_.coef_, b["clf"].main_.coef_, atol=1e-12)


def test_a_model_file_of_the_first_format_still_loads(trained, tmp_path):
    import joblib

    old = tmp_path / "v1.joblib"
    joblib.dump({"pipeline": trained.model.pipeline, "reviser": trained.model.reviser,
                 "card": {"name": "v1"}}, old)  # fmt: skip
    model = Model.load(old)
    assert model.kind_reviser is None  # that format had no kind reviser
    html = SEED_PAGES[0].read_bytes()
    same = Model(trained.model.pipeline, {}, trained.model.reviser)
    a = same.label_blocks(segment(parse(html)))
    b = model.label_blocks(segment(parse(html)))
    assert [x.label for x in a] == [x.label for x in b]


def test_a_model_from_a_newer_version_is_refused_clearly(tmp_path):
    import joblib

    path = tmp_path / "future.joblib"
    joblib.dump({"format": 99, "packed": b"", "card": {}}, path)
    with pytest.raises(ModelError, match="newer boilerplate-classifier"):
        Model.load(path)


def test_tokens_of_fewer_than_min_sites_sites_stay_out_of_the_content_model():
    """A class token of one site is a template quirk: site_wide keeps numeric features
    and tokens seen on enough sites; the content model gives the rest exactly zero
    weight, while the kind model may still use them."""
    import scipy.sparse as sp

    from classifier.estimator import BlockClassifier
    from classifier.train import site_wide

    names = ["len", "anc=quirk", "anc=common"]
    groups = np.array(["a", "a", "b", "b", "c", "c"] * 10)
    quirk = np.array([1, 0, 0, 0, 0, 0] * 10)  # on site a only
    common = np.array([1, 0, 1, 0, 1, 0] * 10)
    length = np.linspace(0.1, 1.0, len(groups))
    X = sp.csr_matrix(np.column_stack([length, quirk, common]).astype(float))
    keep = site_wide(names, X, groups, min_sites=3)
    assert keep.tolist() == [True, False, True]
    assert site_wide(names, X, groups, min_sites=1).all()

    y = np.where(common == 1, "content", "boilerplate").astype(object)
    y[(quirk == 0) & (common == 0) & (np.arange(len(y)) % 4 == 1)] = "related_links"
    y[quirk == 1] = "donation_appeal"
    clf = BlockClassifier(content_features=keep).fit(X, y)
    assert clf.main_.coef_[0][1] == 0.0
    assert clf.main_.coef_[0][2] != 0.0
    assert np.abs(clf.kind_.coef_[:, 1]).max() > 0.1


def test_site_memory_fits_one_site_tokens_on_top_of_the_site_wide_model():
    """With memory_C, a one-site token learns what the site-wide model got wrong on its
    site, and a block of a new site (no such token) is scored by the site-wide weights
    alone, rescaled: both stay one linear model."""
    import scipy.sparse as sp

    from classifier.estimator import BlockClassifier

    rng = np.random.default_rng(0)
    n = 600
    length = rng.uniform(0, 1, n)
    quirk = (np.arange(n) % 6 == 0).astype(float)  # one site's template token
    # content is long text, except that the quirky site's long blocks are boilerplate
    is_content = (length > 0.5) & (quirk == 0)
    X = sp.csr_matrix(np.column_stack([length, quirk]))
    y = np.where(is_content, "content", "boilerplate").astype(object)
    y[np.arange(n) % 7 == 3] = "related_links"
    keep = np.array([True, False])
    plain = BlockClassifier(content_features=keep).fit(X, y)
    memory = BlockClassifier(content_features=keep, memory_C=1.0).fit(X, y)
    assert plain.main_.coef_[0][1] == 0.0
    assert memory.main_.coef_[0][1] < -1.0  # the quirk now pulls towards boilerplate
    # the length weight keeps its sign and the new-site scores keep their order
    assert memory.main_.coef_[0][0] > 0
    new_site = sp.csr_matrix(np.column_stack([np.linspace(0, 1, 11), np.zeros(11)]))
    p = memory.predict_proba(new_site)[:, list(memory.classes_).index("content")]
    assert (np.diff(p) > 0).all()
    quirky = quirk == 1
    def acc(clf: BlockClassifier) -> float:
        return float(((clf.predict(X[quirky]) == "content") == is_content[quirky]).mean())

    assert acc(plain) < 0.7 and acc(memory) > 0.95


def test_complete_pages_are_those_labelled_block_by_block():
    """Only a page whose blocks were (nearly) all labelled by hand tests the special kinds
    on their natural mix; a page with a few picked hand labels, and authored pages, do
    not count, and on a complete page its few unlabelled blocks are left out."""
    import pandas as pd

    from classifier.train import complete_pages

    rows = [("web", "1", "hand")] * 19 + [("web", "1", "gold-aligned")]  # 95%: complete
    rows += [("web", "2", "hand")] * 3 + [("web", "2", "gold-aligned")] * 17  # picked
    rows += [("authored", "a", "hand")] * 5
    rows += [("dragnet", "1", "hand")] * 4  # same page id, other corpus: its own page
    meta = pd.DataFrame(rows, columns=["corpus", "page", "source"])
    got = complete_pages(meta)
    assert got.tolist() == [True] * 19 + [False] * 21 + [False] * 5 + [True] * 4


def test_box_cues_stay_out_of_the_content_model():
    """box_* say which kind of non-content a block is: the content model never gets
    them, whatever min_sites, while every other column stays."""
    import scipy.sparse as sp

    from classifier.train import KIND_ONLY, site_wide

    names = ["len", "box_donate", "anc=common", "box_related"]
    X = sp.csr_matrix(np.ones((6, 4)))
    groups = np.array(["a", "b", "c", "a", "b", "c"])
    for min_sites in (1, 3):
        keep = site_wide(names, X, groups, min_sites=min_sites)
        assert keep.tolist() == [n not in KIND_ONLY for n in names]
