"""Train stage: labelled pages -> a block table -> a fitted, evaluated, saved model.

Data: our authored pages (``training_data/pages``, labels inline as ``data-label``)
plus any corpora in the ``../shared/corpora`` layout, labelled by gold alignment and
by stored hand labels. Evaluation holds out whole sites (domains), so a template the
model memorised never inflates its test score. Same data + same seed -> same model.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import json
import platform
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import scipy.sparse as sp
from joblib import Parallel, delayed
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MaxAbsScaler

from .decode import parse
from .estimator import BlockClassifier
from .evaluate import load_gold, non_content_dropped
from .features import context_features, extract, kind_context_features
from .labels import (
    ALIGNED_SOURCES,
    TRUSTED_SOURCES,
    StoredLabel,
    apply_stored,
    load_stored_labels,
    page_labels,
    project_root,
)
from .model import LABELS, Model, choose, page_passes
from .segment import page_title, segment

REPO = project_root()
TRAINING_DATA = REPO / "training_data"
SHARED_CORPORA = REPO.parent / "shared" / "corpora"
DEFAULT_CORPORA = ("web2026-dev", "trafilatura-dev", "dragnet", "googlenews", "cleaneval",
                   "cleanportaleval", "readability-tests")  # fmt: skip
MIN_DF = 3  # a feature seen on fewer blocks than this is noise, not signal
MIN_SITES = 1  # see site_wide(); 1 keeps every feature
# Features that say which kind of non-content a block is, not whether it is content:
# the cue words of a block's box. In the content model they cost the in-sample
# trafilatura-dev fit 0.004 snippet F1 and gained nothing held out.
KIND_ONLY = ("box_donate", "box_related", "box_counter")
ALIGNED_KIND_WEIGHT = 0.005  # see kind_weights()
TRUSTED_WEIGHT = 10.0  # see sample_weights()
CONTENT_KIND_WEIGHT = 0.02  # aligned content rows in the kind model (see kind_weights)
KIND_REVISER_ALIGNED = 0.02  # aligned boilerplate rows in the kind reviser
TEST_FOLDS = 5  # 1 in 5 sites is held out
COMPLETE_SHARE = 0.9  # see complete_pages()
# Inverse regularisation strengths, measured on held-out sites (see README). A kind
# model at 0.25 raises the special labels' F1 by ~0.04 but loses three labels of the
# seed pages, so it stays at 1.0. Every logistic regression runs to TOL (or max_iter)
# instead of lbfgs's default 1e-4: that early stop fell wherever the floating-point path
# crossed it, so refitting one table with its columns in another order moved in-sample
# web2026-dev F1 by 0.003; at TOL two such refits agree to 1e-4. The content model's
# C then does the regularising the early stop did by accident (C 1: web2026-dev -0.003
# on held-out sites; C 0.5, and 0.7 once reader comments were corrected: trafilatura-dev
# in-sample under its CI floor by 2-3 coin-flip snippets; 0.8 passes).
CONTENT_C = 0.8
KIND_C = 1.0
TOL = 1e-6
MEMORY_C: float | None = None
META_COLUMNS = ["corpus", "page", "group", "block", "label", "source", "chars", "link", "parent"]


@dataclass
class PageSpec:
    """Where one training page comes from; cheap to send to a worker process."""

    corpus: str
    page_id: str
    path: Path
    gold: dict
    group: str


@dataclass
class Chunk:
    """Vectorised blocks of a few pages, with a chunk-local feature vocabulary."""

    X: sp.csr_matrix
    names: list[str]
    meta: pd.DataFrame


def site_of(spec_url: str | None, corpus: str, page_id: str) -> str:
    """The group a page belongs to for the site-disjoint split."""
    if spec_url:
        host = (urlsplit(spec_url).hostname or "").lower()
        if host.startswith("www."):
            host = host[4:]
        if host:
            return host
    return f"{corpus}:{page_id}"


def is_test_site(group: str, seed: int, folds: int = TEST_FOLDS, salt: str = "") -> bool:
    digest = hashlib.sha1(f"{salt}{seed}:{group}".encode()).hexdigest()
    return int(digest[:8], 16) % folds == 0


def authored_pages(root: Path = TRAINING_DATA / "pages") -> list[PageSpec]:
    """Our own example pages; their labels are inline."""
    return [
        PageSpec("authored", p.stem, p, {"id": p.stem}, f"authored:{p.stem}")
        for p in sorted(root.glob("*.html"))
    ]


def corpus_pages(corpus_dir: Path) -> list[PageSpec]:
    """Pages of one corpus in the shared layout that have a gold row."""
    specs = []
    for row in load_gold(corpus_dir):
        pid = str(row["id"])
        path = corpus_dir / "pages" / f"{pid}.html.gz"
        if path.is_file():
            group = site_of(row.get("url"), corpus_dir.name, pid)
            specs.append(PageSpec(corpus_dir.name, pid, path, row, group))
    return specs


def _read(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def _vectorise_chunk(
    specs: Sequence[PageSpec], stored: dict[tuple[str, str, str], StoredLabel]
) -> Chunk:
    """Segment, featurise and label a few pages (runs in a worker process)."""
    vocab: dict[str, int] = {}
    indices: list[int] = []
    data: list[float] = []
    indptr = [0]
    rows: list[tuple] = []
    for spec in specs:
        root = parse(_read(spec.path))
        blocks = segment(root)
        title = page_title(root, headline=False)
        del root
        if spec.corpus == "authored":
            labels: list[str | None] = [b.gold or "boilerplate" for b in blocks]
            sources = ["authored"] * len(blocks)
            apply_stored("authored", spec.page_id, blocks, labels, sources, stored)
        else:
            labels, sources = page_labels(spec.corpus, spec.gold, blocks, stored)
        page = extract(blocks, title)
        chars, link, parent = page.chars, page.link, page.parent
        for i, feats in enumerate(page.to_dicts()):
            for name, value in feats.items():
                j = vocab.get(name)
                if j is None:
                    j = vocab[name] = len(vocab)
                indices.append(j)
                data.append(value)
            indptr.append(len(indices))
            rows.append((spec.corpus, spec.page_id, spec.group, i, labels[i], sources[i],
                         chars[i], link[i], parent[i]))  # fmt: skip
    X = sp.csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int64), indptr),
        shape=(len(rows), len(vocab)),
    )
    meta = pd.DataFrame(rows, columns=META_COLUMNS)
    return Chunk(X, list(vocab), meta)


def build_table(
    specs: Sequence[PageSpec],
    stored: dict[tuple[str, str, str], StoredLabel],
    n_jobs: int = 2,
    chunk_size: int = 40,
    progress: bool = True,
) -> tuple[sp.csr_matrix, list[str], pd.DataFrame]:
    """All labelled blocks of all pages as (X, feature names, meta table)."""
    chunks_specs = [specs[i : i + chunk_size] for i in range(0, len(specs), chunk_size)]
    jobs = (delayed(_vectorise_chunk)(c, stored) for c in chunks_specs)
    results = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    vocab: dict[str, int] = {}
    mats, metas = [], []
    for chunk in _progress(results, len(chunks_specs), "pages -> blocks", progress):
        mapping = np.array([vocab.setdefault(n, len(vocab)) for n in chunk.names], dtype=np.int64)
        X = chunk.X
        X = sp.csr_matrix(
            (X.data, mapping[X.indices] if len(mapping) else X.indices, X.indptr),
            shape=(X.shape[0], max(len(vocab), 1)),
        )
        mats.append(X)
        metas.append(chunk.meta)
    width = max(len(vocab), 1)
    X = sp.vstack([sp.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], width))
                   for m in mats], format="csr") if mats else sp.csr_matrix((0, width))  # fmt: skip
    meta = pd.concat(metas, ignore_index=True) if metas else pd.DataFrame(columns=META_COLUMNS)
    return X, list(vocab), meta


def cached_table(
    specs: Sequence[PageSpec],
    stored: dict[tuple[str, str, str], StoredLabel],
    n_jobs: int,
    progress: bool,
    cache_dir: Path | None,
    log: Callable[[str], None],
) -> tuple[sp.csr_matrix, list[str], pd.DataFrame]:
    """build_table, memoised on disk by everything that can change its result.

    Retraining with a new estimator setting then takes the fit time only.
    """
    if cache_dir is None:
        return build_table(specs, stored, n_jobs=n_jobs, progress=progress)
    import joblib

    h = hashlib.sha1()
    pkg = Path(__file__).resolve().parent
    for mod in ("decode", "segment", "features", "labels"):
        h.update((pkg / f"{mod}.py").read_bytes())
    for s in specs:
        h.update(f"{s.corpus}/{s.page_id}/{s.path.stat().st_size}/{s.group}".encode())
        h.update(json.dumps(s.gold, sort_keys=True).encode())  # a gold fix must rebuild
        if s.corpus == "authored":
            h.update(s.path.read_bytes())
    h.update(repr(sorted(stored.items())).encode())
    path = Path(cache_dir) / f"table-{h.hexdigest()[:16]}.joblib"
    if path.is_file():
        log(f"using cached block table {path}")
        return joblib.load(path)
    table = build_table(specs, stored, n_jobs=n_jobs, progress=progress)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(table, path)
    return table


def _progress(items: Iterable, total: int, what: str, enabled: bool) -> Iterable:
    """A progress bar on stderr (rich, which typer brings) or nothing."""
    if not enabled:
        yield from items
        return
    from rich.progress import Progress

    with Progress(transient=False, console=None) as bar:
        task = bar.add_task(what, total=total)
        for item in items:
            yield item
            bar.advance(task)


def prune(X: sp.csr_matrix, names: list[str], min_df: int) -> tuple[sp.csr_matrix, list[str]]:
    """Drop features seen on fewer than `min_df` blocks (keeps the model small)."""
    df = np.asarray((X != 0).sum(axis=0)).ravel()
    keep = np.flatnonzero(df >= min_df)
    return X[:, keep].tocsr(), [names[j] for j in keep]


def site_support(X: sp.csr_matrix, groups: np.ndarray) -> np.ndarray:
    """On how many distinct sites each feature occurs (rows of X are blocks)."""
    gid = np.unique(groups, return_inverse=True)[1]
    B = X.copy()
    B.data[:] = 1.0
    G = sp.csr_matrix((np.ones(len(gid)), (gid, np.arange(len(gid)))),
                      shape=(int(gid.max()) + 1 if len(gid) else 0, X.shape[0]))  # fmt: skip
    return np.diff((G @ B).tocsc().indptr)


def site_wide(
    names: list[str], X: sp.csr_matrix, groups: np.ndarray, min_sites: int = MIN_SITES
) -> np.ndarray:
    """The features the content model learns from: every numeric one, and the named
    (token, word, heading) ones seen on at least `min_sites` sites.

    A class token or heading word of one site is a template's quirk: it fits that
    site's pages (where it reached the largest weights of the model) and says nothing
    about the next site. The kind model keeps them: a site's appeal box is labelled on
    a few of its pages, and its class tokens are what recognises it on the others.
    KIND_ONLY features never enter the content model (with --memory-c, its second
    stage fits them along with the rare tokens).
    """
    if min_sites > 1:
        named = np.array(["=" in n for n in names], dtype=bool)
        keep = ~named | (site_support(X, groups) >= min_sites)
    else:
        keep = np.ones(len(names), dtype=bool)
    return keep & ~np.isin(names, KIND_ONLY)


def make_pipeline(
    names: list[str],
    seed: int,
    C: float = CONTENT_C,
    kind_C: float = KIND_C,
    content_features: np.ndarray | None = None,
    memory_c: float | None = None,
) -> Pipeline:
    """The estimator: a fixed-vocabulary DictVectorizer, scaling, logistic regression."""
    vec = DictVectorizer(dtype=np.float64)
    vec.feature_names_ = list(names)
    vec.vocabulary_ = {n: j for j, n in enumerate(names)}
    clf = BlockClassifier(C=C, kind_C=kind_C, max_iter=500, random_state=seed, tol=TOL,
                          content_features=content_features, memory_C=memory_c)  # fmt: skip
    return Pipeline([("vec", vec), ("scale", MaxAbsScaler()), ("clf", clf)])


def complete_pages(meta: pd.DataFrame) -> np.ndarray:
    """Hand-labelled rows of corpus pages a person labelled block by block.

    Most hand labels are blocks picked for their cue words or the model's doubt, so
    they overstate how often the special kinds occur; a page labelled whole (at least
    COMPLETE_SHARE of its blocks) tests them on their natural mix of blocks.
    """
    hand = meta["source"].eq("hand")
    key = meta["corpus"].astype(str) + "/" + meta["page"].astype(str)
    share = hand.groupby(key).transform("mean")
    return ((share >= COMPLETE_SHARE) & hand & meta["corpus"].ne("authored")).to_numpy()


def kind_weights(meta: pd.DataFrame) -> np.ndarray:
    """Trust in each row's kind label: full for hand/authored/annotated, low for aligned."""
    aligned = meta["source"].isin(ALIGNED_SOURCES).to_numpy()
    label = meta["label"].to_numpy()
    return np.select(
        [aligned & (label == "boilerplate"), aligned & (label == "content")],
        [ALIGNED_KIND_WEIGHT, CONTENT_KIND_WEIGHT],
        1.0,
    )


def sample_weights(meta: pd.DataFrame) -> np.ndarray:
    """Weight in the content decision: hand and authored labels count TRUSTED_WEIGHT."""
    trusted = meta["source"].isin(TRUSTED_SOURCES).to_numpy()
    return np.where(trusted, TRUSTED_WEIGHT, 1.0)


def fit_pipeline(
    pipe: Pipeline, X: sp.csr_matrix, y: np.ndarray, kw: np.ndarray, sw: np.ndarray
) -> Pipeline:
    """Fit the scaler and classifier on an already vectorised matrix.

    `sw` weighs rows in the content decision, `kw` in the choice between the kinds.
    """
    Xs = pipe.named_steps["scale"].fit_transform(X)
    pipe.named_steps["clf"].fit(Xs, y, sample_weight=sw, kind_weight=kw)
    return pipe


def _first_pass(
    pipe: Pipeline, X: sp.csr_matrix, kinds: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(content), the kind model's special-kind evidence and its probabilities (columns
    in `kinds` order; a kind this model never saw gets 0) per row."""
    clf = pipe.named_steps["clf"]
    classes = list(clf.classes_)
    Xs = pipe.named_steps["scale"].transform(X)
    kind_proba = np.zeros((X.shape[0], len(kinds)))
    if clf.kind_ is not None:
        own = clf.kind_.predict_proba(Xs)
        for j, k in enumerate(clf.kind_.classes_):
            if str(k) in kinds:
                kind_proba[:, kinds.index(str(k))] = own[:, j]
    return clf.predict_proba(Xs)[:, classes.index("content")], clf.special_evidence(Xs), kind_proba


def _page_runs(meta: pd.DataFrame) -> list[tuple[int, int]]:
    """(start, end) row ranges of each page; a page's rows are contiguous."""
    key = (meta["corpus"] + "/" + meta["page"].astype(str)).to_numpy()
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], len(key)]
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def page_context(p: np.ndarray, meta: pd.DataFrame, special: np.ndarray) -> np.ndarray:
    """context_features for every row, page by page."""
    chars = meta["chars"].to_numpy(dtype=float)
    link = meta["link"].to_numpy(dtype=float)
    parent = meta["parent"].to_numpy(dtype=np.int64)
    parts = [context_features(p[a:b], chars[a:b], link[a:b], parent[a:b], special[a:b])
             for a, b in _page_runs(meta)]  # fmt: skip
    return np.vstack(parts) if parts else np.zeros((0, 0))


def page_kind_context(kind_proba: np.ndarray, meta: pd.DataFrame) -> np.ndarray:
    """kind_context_features for every row, page by page."""
    chars = meta["chars"].to_numpy(dtype=float)
    link = meta["link"].to_numpy(dtype=float)
    parent = meta["parent"].to_numpy(dtype=np.int64)
    parts = [kind_context_features(kind_proba[a:b], chars[a:b], link[a:b], parent[a:b])
             for a, b in _page_runs(meta)]  # fmt: skip
    return np.vstack(parts) if parts else np.zeros((0, 0))


def fit_kind_reviser(
    X3: np.ndarray, meta: pd.DataFrame, seed: int
) -> LogisticRegression | None:
    """The kind reviser, on the non-content rows whose kind is known.

    Aligned boilerplate rows (gold alignment cannot see appeals or related boxes) enter
    with KIND_REVISER_ALIGNED weight, so that the reviser keeps the real share of
    plain boilerplate in mind; the kinds are not reweighted by rarity, as the first
    pass already was.
    """
    y = meta["label"].to_numpy()
    aligned = meta["source"].isin(ALIGNED_SOURCES).to_numpy()
    w = np.where(aligned & (y == "boilerplate"), KIND_REVISER_ALIGNED, kind_weights(meta))
    rows = pd.notna(y) & (y != "content") & (w > 0)
    if len(set(y[rows])) < 2:
        return None
    return LogisticRegression(C=1.0, max_iter=3000, tol=TOL, random_state=seed).fit(
        X3[rows], y[rows], sample_weight=w[rows]
    )


def _quiet_lbfgs(fit: Callable[..., Model]) -> Callable[..., Model]:
    """Run `fit` without ConvergenceWarnings: lbfgs reaching max_iter before TOL is
    expected (the content model usually takes all 500 iterations), and fit_model logs
    the count once instead of a warning per fit."""

    @functools.wraps(fit)
    def quiet(*args: object, **kwargs: object) -> Model:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return fit(*args, **kwargs)

    return quiet


@_quiet_lbfgs
def fit_model(
    names: list[str],
    X: sp.csr_matrix,
    meta: pd.DataFrame,
    rows: np.ndarray,
    seed: int,
    log: Callable[[str], None],
    min_sites: int = MIN_SITES,
    content_c: float = CONTENT_C,
    memory_c: float | None = MEMORY_C,
) -> Model:
    """First pass on the labelled rows among `rows`, then the context reviser.

    The reviser must learn from first-pass verdicts on pages that pass never saw
    (as at run time), so those come from two site-disjoint halves, each predicted
    by a model fitted on the other. The content model learns only from features seen
    on `min_sites` of the fitting rows' sites (see site_wide).
    """
    y = meta["label"].to_numpy()
    kw = kind_weights(meta)
    sw = sample_weights(meta)
    groups = meta["group"].to_numpy()
    lab = rows & meta["label"].notna().to_numpy()

    def pipeline(fit: np.ndarray) -> Pipeline:
        mask = site_wide(names, X[fit], groups[fit], min_sites)
        mask = None if mask.all() else mask
        pipe = make_pipeline(names, seed, C=content_c, content_features=mask, memory_c=memory_c)
        return fit_pipeline(pipe, X[fit], y[fit], kw[fit], sw[fit])

    pipe = pipeline(lab)
    half = np.array([is_test_site(g, seed, folds=2, salt="oof") for g in meta["group"]])
    clf = pipe.named_steps["clf"]
    kinds = [str(k) for k in clf.kind_.classes_] if clf.kind_ is not None else []
    p_oof = np.zeros(len(meta))
    s_oof = np.zeros(len(meta))
    k_oof = np.zeros((len(meta), len(kinds)))
    for part in (half, ~half):
        fit_rows = lab & ~part
        # both halves need rows: tiny data (two pages) can put every site in one half
        if fit_rows.any() and (rows & part).any() and len(set(y[fit_rows])) > 1:
            other = pipeline(fit_rows)
            sel = rows & part
            p_oof[sel], s_oof[sel], k_oof[sel] = _first_pass(other, X[sel], kinds)
    log("fitted first pass and its out-of-fold predictions")
    X2 = page_context(p_oof, meta, s_oof)
    target = y[lab] == "content"
    reviser = None
    if 0 < target.sum() < len(target):
        reviser = LogisticRegression(C=1.0, max_iter=1000, tol=TOL, random_state=seed)
        reviser.fit(X2[lab], target, sample_weight=sw[lab])
    kind_reviser = None
    if kinds:
        X3 = page_kind_context(k_oof[rows], meta[rows])
        kind_reviser = fit_kind_reviser(X3, meta[rows], seed)
    log(f"content model: {int(clf.main_.n_iter_[0])} lbfgs iterations (tol {TOL}, "
        f"max {clf.max_iter})")
    return Model(pipe, reviser=reviser, kind_reviser=kind_reviser)


def predict_rows(
    model: Model, X: sp.csr_matrix, meta: pd.DataFrame, rows: np.ndarray
) -> np.ndarray:
    """Labels for table rows, page by page, through the very passes cleaning uses."""
    pipe = model.pipeline
    clf = pipe.named_steps["clf"]
    classes = [str(c) for c in clf.classes_]
    Xs = pipe.named_steps["scale"].transform(X[rows])
    first = clf.predict_proba(Xs)
    kind = clf.kind_
    kinds = [str(k) for k in kind.classes_] if kind is not None else None
    kind_proba = kind.predict_proba(Xs) if kind is not None else None
    evidence = clf.evidence(kind_proba, Xs.shape[0])
    sub = meta[rows]
    chars, link = sub["chars"].to_numpy(dtype=float), sub["link"].to_numpy(dtype=float)
    parent = sub["parent"].to_numpy(dtype=np.int64)
    choice = np.zeros(len(sub), dtype=np.int64)
    for a, b in _page_runs(sub):
        kp = kind_proba[a:b] if kind_proba is not None else None
        proba = page_passes(first[a:b], evidence[a:b], kp, kinds, classes, model.kind_reviser,
                            model.reviser, chars[a:b], link[a:b], parent[a:b])  # fmt: skip
        choice[a:b] = choose(proba, evidence[a:b], classes)
    return np.array(classes)[choice]


def block_report(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Per-label precision/recall/F1/support and the confusion matrix."""
    labels = [lab for lab in LABELS if lab in set(y_true) | set(y_pred)]
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    per = {
        lab: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
              "f1": round(float(f[i]), 4), "support": int(s[i])}
        for i, lab in enumerate(labels)
    }  # fmt: skip
    cm = confusion_matrix(y_true, y_pred, labels=labels)
    report = {"per_label": per, "confusion": {"labels": labels, "matrix": cm.tolist()}}
    dropped = non_content_dropped(zip(y_true, y_pred, strict=True))
    if dropped is not None:
        report["non_content_dropped"] = dropped
    return report


def format_report(report: dict) -> str:
    """The block report as two small tables for a terminal."""
    per = pd.DataFrame(report["per_label"]).T
    cm = report["confusion"]
    conf = pd.DataFrame(cm["matrix"], index=["true " + x for x in cm["labels"]],
                        columns=[x[:10] for x in cm["labels"]])  # fmt: skip
    out = f"{per.to_string()}\n\nconfusion (rows true, columns predicted):\n{conf.to_string()}"
    dropped = report.get("non_content_dropped")
    if dropped:
        out += (f"\nnon-content blocks absent from the cleaned text: {dropped['share']:.4f}"
                f" of {dropped['blocks']}")  # fmt: skip
    return out


def library_versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {"python": platform.python_version()}
    for pkg in ("scikit-learn", "numpy", "scipy", "pandas", "joblib", "lxml"):
        with contextlib.suppress(md.PackageNotFoundError):
            out[pkg] = md.version(pkg)
    return out


def train(
    corpora: Sequence[Path] | None = None,
    label_paths: Sequence[Path] | None = None,
    output: Path = REPO / "models" / "default.joblib",
    seed: int = 0,
    n_jobs: int = 2,
    progress: bool = True,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr),
    evaluate_pages: Callable[[Model, list[PageSpec]], dict] | None = None,
    cache_dir: Path | None = None,
    pages_dir: Path | None = None,
    content_c: float = CONTENT_C,
    min_sites: int = MIN_SITES,
    memory_c: float | None = MEMORY_C,
) -> Model:
    """Build the block table, evaluate on held-out sites, fit on everything, save.

    `pages_dir` holds the authored pages (default training_data/pages); `content_c` and
    `min_sites` set the content model's regularisation and feature filter (site_wide);
    `memory_c` (None: off) fits the filtered-out features on top (BlockClassifier).
    """
    start = time.perf_counter()
    if corpora is None:
        corpora = [SHARED_CORPORA / c for c in DEFAULT_CORPORA]
    if label_paths is None:
        label_paths = [TRAINING_DATA / "labels"]
    specs = authored_pages(Path(pages_dir) if pages_dir else TRAINING_DATA / "pages")
    used: dict[str, int] = {"authored": len(specs)}
    for cdir in corpora:
        cdir = Path(cdir)
        if not (cdir / "gold.jsonl").is_file():
            log(f"skipping corpus {cdir}: not found (no gold.jsonl); training without it")
            continue
        pages = corpus_pages(cdir)
        used[cdir.name] = len(pages)
        specs.extend(pages)
    for p in label_paths:
        if not Path(p).exists():
            log(f"skipping labels {p}: not found")
    stored = load_stored_labels([p for p in label_paths if Path(p).exists()])
    log(f"pages: {used}; stored labels: {len(stored)}")
    if not specs:
        raise ValueError("no training pages: training_data/pages is empty and no corpus found")

    X, names, meta = cached_table(specs, stored, n_jobs, progress, cache_dir, log)
    min_df = MIN_DF if len(specs) > 50 else 1  # a handful of pages: keep every feature
    X, names = prune(X, names, min_df)
    min_sites = min_sites if len(specs) > 50 else 1  # a handful of pages: every feature
    y = meta["label"].to_numpy()
    labelled = meta["label"].notna().to_numpy()
    log(f"blocks: {X.shape[0]:,} ({labelled.sum():,} labelled), {X.shape[1]:,} features; "
        f"labels: {meta['label'].value_counts().to_dict()}")  # fmt: skip

    test = np.array([is_test_site(g, seed) for g in meta["group"]])
    metrics: dict = {}
    if (test & labelled).any() and len(set(y[~test & labelled])) > 1:
        held_model = fit_model(names, X, meta, ~test, seed, log, min_sites, content_c, memory_c)
        rows = test & labelled
        pred = predict_rows(held_model, X, meta, test)[rows[test]]
        metrics["blocks_site_disjoint_test"] = block_report(y[rows], pred)
        log("held-out sites, all labelled blocks:\n"
            + format_report(metrics["blocks_site_disjoint_test"]))  # fmt: skip
        # rows a person labelled: the only fair test of the special kinds, since
        # gold alignment calls every unlabelled appeal or related box "boilerplate";
        # picked blocks and whole pages are reported apart (see complete_pages)
        complete = complete_pages(meta)[rows]
        hand = meta["source"].isin(TRUSTED_SOURCES).to_numpy()[rows]
        hand &= ~complete
        if hand.any():
            metrics["hand_labelled_site_disjoint_test"] = block_report(y[rows][hand], pred[hand])
            log("held-out sites, hand-labelled blocks (picked, not whole pages):\n"
                + format_report(metrics["hand_labelled_site_disjoint_test"]))  # fmt: skip
        if complete.any():
            metrics["complete_pages_site_disjoint_test"] = block_report(
                y[rows][complete], pred[complete]
            )
            log("held-out sites, pages labelled block by block:\n"
                + format_report(metrics["complete_pages_site_disjoint_test"]))  # fmt: skip
        if evaluate_pages is not None:
            # every page of a held-out site, also those that make no block at all
            held = [s for s in specs if is_test_site(s.group, seed)]
            metrics["pages_site_disjoint_test"] = evaluate_pages(held_model, held)
            log(f"held-out sites, pages: {metrics['pages_site_disjoint_test']}")
    else:
        log("too little data for a site-disjoint test split; reporting no test metrics")

    final = fit_model(names, X, meta, np.ones(len(meta), dtype=bool), seed, log, min_sites,
                      content_c, memory_c)  # fmt: skip
    meta = meta[labelled]
    sources = meta.groupby(["corpus", "source", "label"]).size()
    card = {
        "name": Path(output).stem,
        "labels": list(LABELS),
        "estimator": "DictVectorizer -> MaxAbsScaler -> BlockClassifier (logistic regression "
        "content-vs-rest, then logistic regression over the non-content kinds); second pass: "
        "logistic regressions over the neighbours' first-pass verdicts, one for content, one "
        "for the kind",
        "features": {
            "count": len(names),
            "families": "own text stats, words of short blocks, tag, class/id tokens "
            "(own/parent/ancestors/inline), neighbours, nearest heading, main-container, "
            "repeated-structure group, page-title match, reader-comment section, cue "
            "words of the block's box (kind model only)",
            "min_df": min_df,
            "min_sites": min_sites,
        },
        "training_data": {
            "pages": used,
            "blocks": int(X.shape[0]),
            "labels": {k: int(v) for k, v in meta["label"].value_counts().items()},
            "by_corpus_source_label": {" / ".join(k): int(v) for k, v in sources.items()},
            "aligned_boilerplate_kind_weight": ALIGNED_KIND_WEIGHT,
            "hand_label_weight": TRUSTED_WEIGHT,
            "aligned_content_kind_weight": CONTENT_KIND_WEIGHT,
            "stored_label_files": [str(Path(p)) for p in label_paths],
        },
        "regularisation_C": {"content": content_c, "site_memory": memory_c, "kind": KIND_C,
                             "reviser": 1.0,
                             "kind_reviser": 1.0},
        "solver_tolerance": TOL,
        "kind_reviser_aligned_weight": KIND_REVISER_ALIGNED,
        "split": f"site-disjoint: sha1(seed:site) % {TEST_FOLDS} == 0 held out",
        "seed": seed,
        "metrics": metrics,
        "library_versions": library_versions(),
        "train_seconds": round(time.perf_counter() - start, 1),
    }
    model = Model(final.pipeline, card, reviser=final.reviser, kind_reviser=final.kind_reviser)
    model.save(Path(output))
    log(f"saved {output} ({Path(output).stat().st_size / 1e6:.2f} MB) "
        f"in {card['train_seconds']} s")  # fmt: skip
    return model


def evaluate_held_out(model: Model, specs: Sequence[PageSpec]) -> dict:
    """Shingle/snippet F1 per corpus on held-out-site pages, for the model card; with
    trafilatura's on the very same pages when it is installed (the [compare] extra), as
    its ANCHORS.md figures are over all of a corpus's pages, not this held-out share."""
    from .clean import Cleaner
    from .evaluate import trafilatura_extractor

    cleaner = Cleaner(model=model)
    systems: dict[str, Callable[[bytes, str | None], str]] = {
        "ours": lambda raw, url: cleaner.clean(raw, url=url).text
    }
    with contextlib.suppress(RuntimeError):
        systems["trafilatura"] = trafilatura_extractor()
    by_corpus: dict[str, list[PageSpec]] = {}
    for s in specs:
        if s.corpus != "authored":
            by_corpus.setdefault(s.corpus, []).append(s)
    out: dict[str, dict] = {}
    for corpus, pages in sorted(by_corpus.items()):
        rows = {name: _page_scores(run, pages) for name, run in systems.items()}
        out[corpus] = rows.pop("ours")
        for name, row in rows.items():
            out[corpus][name] = {k: v for k, v in row.items() if k != "pages"}
    return out


def _page_scores(run: Callable[[bytes, str | None], str], pages: list[PageSpec]) -> dict:
    """Shingle and snippet F1 of one extractor over some pages of one corpus."""
    from .evaluate import shingle_counts, shingle_scores, snippet_counts, snippet_scores

    shingles, snip = [], [0, 0, 0]
    for s in pages:
        try:
            text = run(_read(s.path), s.gold.get("url")) or ""
        except Exception:  # a page an extractor fails on scores as empty
            text = ""
        if s.gold.get("body"):
            shingles.append(shingle_counts(text, s.gold["body"]))
        if s.gold.get("with") or s.gold.get("without"):
            tp, fp, fn = snippet_counts(text, s.gold.get("with") or [],
                                        s.gold.get("without") or [])  # fmt: skip
            snip = [snip[0] + tp, snip[1] + fp, snip[2] + fn]
    row: dict = {"pages": len(pages)}
    if shingles:
        row["shingle_f1"] = round(shingle_scores(shingles)[2], 4)
    if any(snip):
        row["snippet_f1"] = round(snippet_scores(*snip)[2], 4)
    return row
