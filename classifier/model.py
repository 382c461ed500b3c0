"""Model stage: page features -> label + confidence per block, with a persisted estimator.

The estimator is a scikit-learn Pipeline (DictVectorizer -> MaxAbsScaler ->
BlockClassifier, see `estimator`), so every weight has a feature name and a dropped
block can be explained. Pages are scored from its weight table (`Weights`), which the
joblib file holds as plain arrays beside the packed pipeline and a JSON model card; the
default model is loaded once per process and cached.
"""

from __future__ import annotations

import copy
import functools
import gc
import json
import pickle
import time
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from .errors import ModelError
from .features import (
    BAGS,
    DENSE,
    PageFeatures,
    context_features,
    extract,
    kind_context_features,
)
from .segment import Block

LABELS = ("content", "donation_appeal", "related_links", "counter_widget", "boilerplate")
MODEL_FORMAT = 2  # 1: pickled pipeline only; 2: + weight table, pipeline packed
_HERE = Path(__file__).resolve().parent


def _default_model_path() -> Path:
    """models/default.joblib of a checkout, else the copy a wheel installs."""
    for candidate in (_HERE.parent / "models", _HERE / "_models"):
        if (candidate / "default.joblib").is_file():
            return candidate / "default.joblib"
    return _HERE.parent / "models" / "default.joblib"


DEFAULT_MODEL = _default_model_path()


def combine(
    p: np.ndarray,
    kind_proba: np.ndarray | None,
    classes: list[str],
    kinds: list[str] | None,
    only_kind: str | None = None,
) -> np.ndarray:
    """Class probabilities (columns in `classes` order) from P(content) and the kind
    model's probabilities (columns in `kinds` order): the kinds share 1 - P(content)."""
    out = np.zeros((len(p), len(classes)))
    if "content" in classes:
        out[:, classes.index("content")] = p
    if kinds is not None and kind_proba is not None:
        cols = [j for j, lab in enumerate(kinds) if lab != "content"]
        norm = np.maximum(kind_proba[:, cols].sum(axis=1), 1e-12)
        for j in cols:
            out[:, classes.index(kinds[j])] = (1 - p) * kind_proba[:, j] / norm
    elif only_kind in classes:
        out[:, classes.index(only_kind)] = 1 - p
    return out


def kind_evidence(kind_proba: np.ndarray | None, kinds: list[str] | None, n: int) -> np.ndarray:
    """The kind model's own P(appeal, related box or counter), content included.

    The second pass needs it: it is how a donation appeal in the middle of the story,
    which the content model places by position, can be taken out again.
    """
    if kinds is None or kind_proba is None:
        return np.zeros(n)
    cols = [j for j, lab in enumerate(kinds) if lab not in ("content", "boilerplate")]
    if not cols:
        return np.zeros(n)
    return kind_proba[:, cols].max(axis=1)


def revise_proba(
    reviser: Any,
    proba: np.ndarray,
    evidence: np.ndarray,
    labels: list[str],
    chars: np.ndarray,
    link: np.ndarray,
    parent: np.ndarray,
) -> np.ndarray:
    """Second pass for one page: new P(content), the kinds rescaled to the rest."""
    c = labels.index("content")
    p1 = proba[:, c]
    X2 = context_features(p1, chars, link, parent, evidence)
    coef = reviser.coef_[0]
    # LogisticRegression.predict_proba, without its per-call input validation; a model
    # trained before the last context columns existed uses the ones it knows
    p2 = _sigmoid(X2[:, : len(coef)] @ coef + reviser.intercept_[0])
    out = proba * ((1 - p2) / np.maximum(1 - p1, 1e-9))[:, None]
    out[:, c] = p2
    return out


SPECIAL_SHARE = 0.4  # a special kind with this share of the non-content mass wins


def decide(proba: np.ndarray, classes: list[str]) -> np.ndarray:
    """Content when P(content) >= 0.5; else the likeliest special kind if it holds at
    least SPECIAL_SHARE of the rest, else the most likely other kind.

    Whether a block is content is all that shapes the cleaned text; among the rest, the
    rare kinds are the ones a user asks about, and boilerplate otherwise wins ties.
    """
    if "content" not in classes:
        return proba.argmax(axis=1)
    c = classes.index("content")
    others = proba.copy()
    others[:, c] = -1.0
    choice = others.argmax(axis=1)
    special = [j for j, lab in enumerate(classes) if lab not in ("content", "boilerplate")]
    if special:
        sub = proba[:, special]
        best = np.asarray(special)[sub.argmax(axis=1)]
        strong = sub.max(axis=1) >= SPECIAL_SHARE * (1.0 - proba[:, c])
        choice = np.where(strong, best, choice)
    return np.where(proba[:, c] >= 0.5, c, choice)


RUN_GAP = 3  # blocks a run of one special kind may be broken by and still be one run
RUN_SHARE = 0.5  # a gap block joins the run when that kind leads its non-content mass
RUN_EVIDENCE = 0.2  # ... and the kind model, content included, gives it this much
RUN_ANCHOR = 0.9  # the kind model's evidence for both blocks that bound the gap


def fill_runs(
    choice: np.ndarray, proba: np.ndarray, evidence: np.ndarray, classes: list[str]
) -> np.ndarray:
    """Close short gaps inside a run of one special kind, for one page in order.

    An appeal box is several paragraphs; the ones that read like prose ("we keep our
    reporting open...") look like content to a model that scores blocks one by one.
    A gap of at most RUN_GAP blocks between two blocks of kind K joins the run when,
    for every gap block not of kind K already, K holds at least RUN_SHARE of its
    non-content probability and the kind model's own special evidence is at least
    RUN_EVIDENCE: that model sees the kind too; the content model read the block as
    prose. Both bounding blocks must be sure (evidence >= RUN_ANCHOR), so a run the
    model only half believes in cannot swallow the story around it; a less sure block
    of kind K inside the gap neither bounds it nor breaks it.
    """
    special = [j for j, lab in enumerate(classes) if lab not in ("content", "boilerplate")]
    if not special or "content" not in classes or len(choice) < 3:
        return choice
    # the sure special blocks, in order
    at = np.flatnonzero(np.isin(choice, special) & (evidence >= RUN_ANCHOR))
    if len(at) < 2:
        return choice
    c = classes.index("content")
    out = choice.copy()
    for a, b in zip(at[:-1].tolist(), at[1:].tolist(), strict=True):
        k = choice[a]
        if choice[b] != k or not 1 < b - a <= RUN_GAP + 1:
            continue
        gap = np.arange(a + 1, b)
        gap = gap[choice[gap] != k]
        share = proba[gap, k] / np.maximum(1.0 - proba[gap, c], 1e-9)
        if (share >= RUN_SHARE).all() and (evidence[gap] >= RUN_EVIDENCE).all():
            out[gap] = k
    return out


RESCUE_MIN = 0.2  # below this P(content) a page with no content block stays empty


def rescue_content(choice: np.ndarray, proba: np.ndarray, classes: list[str]) -> np.ndarray:
    """A page where no block reached P(content) 0.5 still has a body if any block came
    close: the blocks with at least half the best block's P(content) (and RESCUE_MIN).

    An empty result is the worst answer for a page that has an article; shop pages and
    threads of short comments are where the model hesitates on every block.
    """
    if "content" not in classes or not len(choice):
        return choice
    c = classes.index("content")
    if (choice == c).any():
        return choice
    p = proba[:, c]
    top = p.max()
    if top < RESCUE_MIN:
        return choice
    return np.where(p >= top / 2, c, choice)


def _kind_linear(kind_reviser: Any) -> KindLinear | None:
    if kind_reviser is None:
        return None
    return KindLinear(np.asarray(kind_reviser.coef_), np.asarray(kind_reviser.intercept_),
                      [str(c) for c in kind_reviser.classes_])  # fmt: skip


def _found(get: Any, names: Any) -> set[int]:
    """The table rows of those names the vocabulary knows (each once)."""
    rows = set(map(get, names))
    rows.discard(None)
    return rows


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class Linear:
    """A fitted binary logistic regression reduced to what predicting needs."""

    coef_: np.ndarray  # (1, features)
    intercept_: np.ndarray  # (1,)


@dataclass
class KindLinear:
    """The fitted kind reviser (a logistic regression) reduced to what predicting needs."""

    coef_: np.ndarray  # (classes, features); one row for two classes
    intercept_: np.ndarray  # (classes,) or (1,)
    classes_: list[str]

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        z = X @ self.coef_.T + self.intercept_
        if self.coef_.shape[0] == 1:
            k1 = _sigmoid(z[:, 0])
            return np.column_stack([1 - k1, k1])
        return _softmax(z)


KIND_SIGN = 0.1  # the share of its non-content mass a block must give a kind itself


def revise_kinds(
    kind_reviser: Any, kind_proba: np.ndarray, kinds: list[str], chars: np.ndarray,
    link: np.ndarray, parent: np.ndarray,
) -> np.ndarray:
    """Second pass for the kind of one page's blocks: P(kind) over the reviser's classes
    (the non-content ones), from the kind model's verdicts on the block and its
    neighbours and siblings (features.kind_context_features; `kinds` names the columns
    of `kind_proba`).

    Neighbours may only confirm what a block shows itself: a special kind that holds
    less than KIND_SIGN of the block's own non-content mass in the first pass goes to
    boilerplate, so the "Original Source" link below a "Become a Patron!" box stays a
    link. (On held-out hand-labelled blocks this costs donation appeals 0.02 F1 and
    gains counters 0.02; without it the reviser spreads every box onto its neighbours.
    0.1 rather than 0.2: related-box items without a cue word get through, related F1
    +0.01 on held-out picked blocks and on pages labelled block by block.)
    """
    revised = kind_reviser.predict_proba(kind_context_features(kind_proba, chars, link, parent))
    classes = list(kind_reviser.classes_)
    if "boilerplate" not in classes or not all(k in kinds for k in classes):
        return revised
    own = kind_proba[:, [kinds.index(k) for k in classes]]
    share = own / np.maximum(own.sum(axis=1, keepdims=True), 1e-12)
    b = classes.index("boilerplate")
    for j in range(len(classes)):
        if j != b:
            weak = share[:, j] < KIND_SIGN
            revised[weak, b] += revised[weak, j]
            revised[weak, j] = 0.0
    return revised


def page_passes(
    first: np.ndarray,
    evidence: np.ndarray,
    kind_proba: np.ndarray | None,
    kinds: list[str] | None,
    labels: list[str],
    kind_reviser: Any,
    reviser: Any,
    chars: np.ndarray,
    link: np.ndarray,
    parent: np.ndarray,
) -> np.ndarray:
    """Class probabilities (columns in `labels` order) of one page's blocks after both
    second passes, from the first pass's probabilities and the kind model's scores.

    Cleaning and training's held-out scoring both call this, so the figures a training
    run reports are the labels the shipped model gives at run time.
    """
    proba = first
    if (kind_reviser is not None and kinds is not None and kind_proba is not None
            and "content" in labels):
        revised = revise_kinds(kind_reviser, kind_proba, kinds, chars, link, parent)
        proba = combine(first[:, labels.index("content")], revised, labels,
                        [str(k) for k in kind_reviser.classes_])  # fmt: skip
    if reviser is not None and "content" in labels and len(proba):
        proba = revise_proba(reviser, proba, evidence, labels, chars, link, parent)
    return proba


def choose(proba: np.ndarray, evidence: np.ndarray, labels: list[str]) -> np.ndarray:
    """The label index of each block of one page: decide, then close gaps inside special
    runs, then make sure a page with a likely body keeps one."""
    return rescue_content(fill_runs(decide(proba, labels), proba, evidence, labels),
                          proba, labels)  # fmt: skip


@dataclass
class Weights:
    """The fitted model as one weight table over feature names: coef / scale.

    A logistic regression after MaxAbsScaler is a dot product, so a block's score is the
    sum of its features' weights. Scoring from this table skips sklearn's per-call
    checks and, above all, the dict-per-block vectorisation: a page repeats a few dozen
    ancestor token sets, and each set's summed weights are computed once and cached.
    Column 0 is the content model, columns 1.. the kind model's classes. It is saved in
    the model file as plain arrays, so cleaning never imports scikit-learn.
    """

    names: list[str]  # feature name of each table row
    table: np.ndarray  # (features, 1 + kinds)
    bias: np.ndarray  # (1 + kinds,)
    labels: list[str]  # the model's classes, in probability-column order
    kinds: list[str]  # the kind model's classes, in table-column order (from 1)
    reviser: Linear | None = None  # the second pass over neighbours' verdicts
    kind_reviser: KindLinear | None = None  # the same for the kind of non-content blocks
    vocab: dict[str, int] = field(default_factory=dict)
    dense: np.ndarray = field(default_factory=lambda: np.zeros(0))
    bag_vocab: list[dict[str, int]] = field(default_factory=list)  # per BAGS prefix
    bag_cache: list[dict[Any, np.ndarray]] = field(default_factory=list)
    padded: np.ndarray = field(default_factory=lambda: np.zeros(0))  # table + a zero row

    def __post_init__(self) -> None:
        self.vocab = {name: j for j, name in enumerate(self.names)}
        self.dense = np.zeros((len(DENSE), self.table.shape[1]))
        for i, name in enumerate(DENSE):
            j = self.vocab.get(name)
            if j is not None:
                self.dense[i] = self.table[j]
        self.bag_vocab = [{} for _ in BAGS]
        for name, j in self.vocab.items():
            for k, prefix in enumerate(BAGS):
                if name.startswith(prefix):
                    self.bag_vocab[k][name[len(prefix) :]] = j
        self.bag_cache = [{} for _ in BAGS]
        # one buffer: the table, then a zero row for names the vocabulary does not know
        self.padded = np.vstack([self.table, np.zeros((1, self.table.shape[1]))])
        self.table = self.padded[:-1]

    @property
    def binary_kind(self) -> bool:
        """A two-class kind model has a single coefficient column."""
        return self.table.shape[1] == 2

    @classmethod
    def from_pipeline(
        cls, pipeline: Any, reviser: Any = None, kind_reviser: Any = None
    ) -> Weights | None:
        """The table of a fitted pipeline (None for a degenerate one-class model)."""
        vec = pipeline.named_steps["vec"]
        scale = np.asarray(pipeline.named_steps["scale"].scale_, dtype=float)
        scale = np.where(scale == 0, 1.0, scale)
        clf = pipeline.named_steps["clf"]
        if len(clf.main_.classes_) != 2 or clf.kind_ is None:
            return None
        coefs = [clf.main_.coef_[0]] + list(clf.kind_.coef_)
        bias = np.concatenate([clf.main_.intercept_, clf.kind_.intercept_])
        names = [""] * len(vec.vocabulary_)
        for name, j in vec.vocabulary_.items():
            names[j] = name
        linear = (Linear(np.asarray(reviser.coef_), np.asarray(reviser.intercept_))
                  if reviser is not None else None)  # fmt: skip
        return cls(names=names, table=(np.vstack(coefs) / scale).T.copy(), bias=bias,
                   labels=[str(c) for c in clf.classes_],
                   kinds=[str(k) for k in clf.kind_.classes_], reviser=linear,
                   kind_reviser=_kind_linear(kind_reviser))  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Plain lists and arrays for the model file (no scikit-learn objects)."""
        out: dict[str, Any] = {"names": self.names, "table": self.table, "bias": self.bias,
                               "labels": self.labels, "kinds": self.kinds}  # fmt: skip
        if self.reviser is not None:
            out["reviser"] = {"coef": self.reviser.coef_, "intercept": self.reviser.intercept_}
        if self.kind_reviser is not None:
            kr = self.kind_reviser
            out["kind_reviser"] = {"coef": kr.coef_, "intercept": kr.intercept_,
                                   "classes": list(kr.classes_)}  # fmt: skip
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Weights:
        r, k = d.get("reviser"), d.get("kind_reviser")
        return cls(names=list(d["names"]), table=np.asarray(d["table"]),
                   bias=np.asarray(d["bias"]), labels=list(d["labels"]),
                   kinds=list(d["kinds"]),
                   reviser=Linear(np.asarray(r["coef"]), np.asarray(r["intercept"]))
                   if r else None,
                   kind_reviser=KindLinear(np.asarray(k["coef"]), np.asarray(k["intercept"]),
                                           [str(c) for c in k["classes"]])
                   if k else None)  # fmt: skip

    def _sum_rows(self, rows: list[Any]) -> np.ndarray:
        """Per row of vocabulary indices, the sum of their weights (no scipy overhead)."""
        out = np.zeros((len(rows), self.table.shape[1]))
        lengths = np.fromiter(map(len, rows), dtype=np.intp, count=len(rows))
        idx = np.fromiter(chain.from_iterable(rows), dtype=np.intp, count=int(lengths.sum()))
        if len(idx):
            starts = np.cumsum(lengths) - lengths
            filled = lengths > 0
            out[filled] = np.add.reduceat(self.table[idx], starts[filled], axis=0)
        return out

    def _bag_rows(self, k: int, token_sets: list[Any]) -> np.ndarray:
        """Summed weights of each token set of bag kind `k` (BAGS[k]), cached by set."""
        cache = self.bag_cache[k]
        out = np.empty((len(token_sets), self.table.shape[1]))
        missing: list[int] = []
        for i, tokens in enumerate(token_sets):
            vec = cache.get(tokens)
            if vec is None:
                missing.append(i)
            else:
                out[i] = vec
        if missing:
            get = self.bag_vocab[k].get
            sums = self._sum_rows([_found(get, token_sets[i]) for i in missing])
            if len(cache) > 100_000:  # bounded: a crawl of many sites meets many sets
                cache.clear()
            for i, vec in zip(missing, sums, strict=True):
                out[i] = vec
                cache[token_sets[i]] = vec
        return out

    def scores(self, feats: PageFeatures) -> np.ndarray:
        """Raw linear scores (blocks, 1 + kinds), intercepts included."""
        z = feats.dense @ self.dense
        # blocks under one parent share all four token sets: score each combination once
        uniq: dict[tuple[Any, ...], int] = {}
        rows = np.empty(len(feats), dtype=np.intp)
        for i, bags in enumerate(feats.bags):
            j = uniq.get(bags)
            if j is None:
                j = uniq[bags] = len(uniq)
            rows[i] = j
        combos = list(uniq)
        sums = self._bag_rows(0, [c[0] for c in combos])
        for k in range(1, len(BAGS)):
            sums += self._bag_rows(k, [c[k] for c in combos])
        z += sums[rows]
        z += self._name_rows(feats.names)
        return z + self.bias

    def _name_rows(self, names: list[list[str]]) -> np.ndarray:
        """Summed weights of each block's own binary features (`extract` lists each name
        once per block): one lookup over the page's names, one segmented sum."""
        n = len(names)
        lengths = np.fromiter(map(len, names), dtype=np.intp, count=n)
        total = int(lengths.sum())
        if not lengths.all():  # every block has its tag= name; keep sums aligned anyway
            out = np.zeros((n, self.table.shape[1]))
            if total:
                out[lengths > 0] = self._name_rows([x for x in names if x])
            return out
        miss = len(self.names)  # the zero row: a name the vocabulary does not know
        flat = chain.from_iterable(names)
        rows = np.fromiter(map(self.vocab.get, flat, repeat(miss)), dtype=np.intp, count=total)
        starts = np.cumsum(lengths) - lengths
        return np.add.reduceat(self.padded[rows], starts, axis=0)

    def predict(self, feats: PageFeatures) -> tuple[np.ndarray, np.ndarray]:
        """P(content) and the kind model's class probabilities, per block."""
        z = self.scores(feats)
        p = _sigmoid(z[:, 0])
        if self.binary_kind:
            k1 = _sigmoid(z[:, 1])
            return p, np.column_stack([1 - k1, k1])
        return p, _softmax(z[:, 1:])


class Model:
    """A fitted block classifier and the card that says what it is.

    Cleaning needs only `weights`; the scikit-learn pipeline (for training code and
    for models without a weight table) is unpickled on first use, so a process that
    only cleans pages never imports scikit-learn (~140 MB and ~1 s saved).
    """

    def __init__(
        self,
        pipeline: Any = None,
        card: dict[str, Any] | None = None,
        reviser: Any = None,
        kind_reviser: Any = None,
        *,
        weights: Weights | None = None,
        packed: bytes | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._reviser = reviser
        self._kind_reviser = kind_reviser
        self._packed = packed  # pickle of (pipeline, reviser[, kind reviser]), read on demand
        self.card: dict[str, Any] = card if card is not None else {}
        self._weights = weights
        self._weights_known = weights is not None  # None is a valid answer, found once

    def _unpack(self) -> None:
        if self._pipeline is None and self._packed:
            pipeline, self._reviser, *rest = pickle.loads(self._packed)
            self._kind_reviser = rest[0] if rest else None
            self._pipeline = _fill_pipeline(pipeline, self._weights)
            self._packed = None

    @property
    def pipeline(self) -> Any:
        """The fitted scikit-learn Pipeline (DictVectorizer -> MaxAbsScaler -> clf)."""
        self._unpack()
        return self._pipeline

    @property
    def reviser(self) -> Any:
        """The second-pass logistic regression, or None."""
        self._unpack()
        return self._reviser

    @property
    def kind_reviser(self) -> Any:
        """The second-pass model of the non-content kinds, or None."""
        self._unpack()
        return self._kind_reviser

    @property
    def weights(self) -> Weights | None:
        """The model as weight tables (None for a degenerate one-class model)."""
        if not self._weights_known:
            self._weights_known = True
            if self._pipeline is not None or self._packed:
                self._weights = Weights.from_pipeline(self.pipeline, self.reviser,
                                                      self.kind_reviser)
        return self._weights

    @property
    def labels(self) -> list[str]:
        w = self.weights
        return w.labels if w is not None else [str(c) for c in self.pipeline.classes_]

    def first_pass(self, feats: PageFeatures) -> tuple[np.ndarray, np.ndarray]:
        """First-pass class probabilities (columns in `labels` order) and the kind
        model's special-kind evidence, for one page's features."""
        if not len(feats):
            return np.zeros((0, len(self.labels))), np.zeros(0)
        w = self.weights
        if w is None:  # e.g. a model trained on one class only: take sklearn's path
            steps = self.pipeline.named_steps
            X = steps["scale"].transform(steps["vec"].transform(feats.to_dicts()))
            return steps["clf"].predict_proba(X), steps["clf"].special_evidence(X)
        p, kind_proba = w.predict(feats)
        return (combine(p, kind_proba, w.labels, w.kinds),
                kind_evidence(kind_proba, w.kinds, len(p)))  # fmt: skip

    def _passes(self, feats: PageFeatures) -> tuple[np.ndarray, np.ndarray]:
        """Class probabilities after both passes and the kind model's evidence."""
        w = self.weights
        if w is None or not len(feats):
            first, evidence = self.first_pass(feats)
            return page_passes(first, evidence, None, None, self.labels, None, self.reviser,
                               feats.chars, feats.link, feats.parent), evidence  # fmt: skip
        p, kind_proba = w.predict(feats)
        evidence = kind_evidence(kind_proba, w.kinds, len(p))
        first = combine(p, kind_proba, w.labels, w.kinds)
        return page_passes(first, evidence, kind_proba, w.kinds, w.labels, w.kind_reviser,
                           w.reviser, feats.chars, feats.link, feats.parent), evidence  # fmt: skip

    def label_blocks(
        self, blocks: list[Block], explain: bool = False, title: str = ""
    ) -> list[Block]:
        """Set `label` and `confidence` on every block of one page (in place); `title`
        is the page's <title> (segment.page_title(root, headline=False))."""
        if not blocks:
            return blocks
        return self.label_features(blocks, extract(blocks, title), explain)

    def label_features(
        self, blocks: list[Block], feats: PageFeatures, explain: bool = False
    ) -> list[Block]:
        """`label_blocks` once the features are computed (the benchmark times both)."""
        proba, evidence = self._passes(feats)
        labels = self.labels
        best = choose(proba, evidence, labels)
        for b, k, row in zip(blocks, best, proba, strict=True):
            b.label = labels[k]
            b.confidence = float(row[k])
        if explain:
            for b, f in zip(blocks, feats.to_dicts(), strict=True):
                b.why = self.explain(f, b.label)
        return blocks

    def explain(self, feats: dict[str, float], label: str, top: int = 4) -> list[str]:
        """The features that pushed a block towards `label` (weight x value), largest first."""
        w = self.weights
        if w is None:
            return []
        if label == "content":
            weights = w.table[:, 0]
        elif label == "boilerplate" or label not in w.kinds:
            weights = -w.table[:, 0]  # what made it "not content"
        elif w.binary_kind:
            weights = w.table[:, 1] if label == w.kinds[1] else -w.table[:, 1]
        else:
            k = w.kinds.index(label)
            base = w.kinds.index("boilerplate") if "boilerplate" in w.kinds else k
            weights = w.table[:, 1 + k] - (w.table[:, 1 + base] if base != k else 0)
        contrib: list[tuple[float, str]] = []
        for name, value in feats.items():
            j = w.vocab.get(name)
            if j is not None and value:
                contrib.append((weights[j] * value, name))
        contrib.sort(reverse=True)
        return [f"{name} ({c:+.2f})" for c, name in contrib[:top] if c > 0]

    def save(self, path: Path) -> Path:
        """Write `<path>` (joblib, compressed) and `<path minus .joblib>.card.json`.

        The file holds the weight table as plain arrays and the scikit-learn pipeline
        as a pickle inside it, read only when someone asks for it.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        w = self.weights
        self.card["model_format"] = MODEL_FORMAT
        card = {k: v for k, v in self.card.items() if k != "runtime"}  # runtime: this process
        obj: dict[str, Any] = {"format": MODEL_FORMAT, "card": card}
        if w is not None:
            obj["weights"] = w.to_dict()
            obj["packed"] = pickle.dumps(
                (_strip_pipeline(self.pipeline), self.reviser, self.kind_reviser)
            )
        else:
            obj["packed"] = pickle.dumps((self.pipeline, self.reviser, self.kind_reviser))
        joblib.dump(obj, path, compress=3)
        card_path = path.with_suffix(".card.json")
        card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
        return path

    @classmethod
    def load(cls, path: Path | str) -> Model:
        """Load a model written by `save`; clear errors for missing or foreign files."""
        path = Path(path)
        if not path.is_file():
            raise ModelError(
                f"model file not found: {path}. Train one with `classifier train` "
                "or pass --model PATH."
            )
        start = time.perf_counter()
        try:
            obj = joblib.load(path)
        except Exception as exc:  # joblib raises many types for a foreign file
            raise ModelError(
                f"cannot load model {path}: {type(exc).__name__}: {exc}. The file is "
                "damaged or was written by another version of boilerplate-classifier or "
                "scikit-learn: retrain it with `classifier train`, or reinstall the package "
                "to restore the shipped model."
            ) from exc
        if not isinstance(obj, dict) or not ({"pipeline", "packed"} & set(obj)):
            raise ModelError(f"{path} is not a boilerplate-classifier model")
        if obj.get("format", 1) > MODEL_FORMAT:
            raise ModelError(
                f"{path} was written by a newer boilerplate-classifier (model format "
                f"{obj['format']}, this version reads up to {MODEL_FORMAT}): upgrade the "
                "package or retrain with `classifier train`."
            )
        try:
            weights = Weights.from_dict(obj["weights"]) if "weights" in obj else None
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{path}: damaged weight table ({exc}); retrain it") from exc
        model = cls(obj.get("pipeline"), obj.get("card", {}), obj.get("reviser"),
                    weights=weights, packed=obj.get("packed"))  # fmt: skip
        model.card.setdefault("runtime", {})["load_seconds"] = round(
            time.perf_counter() - start, 4
        )
        settle_garbage_collector()  # what was just loaded lives as long as the process
        return model


_BIG = (("vec", "vocabulary_"), ("vec", "feature_names_"))


def _strip_pipeline(pipeline: Any) -> Any:
    """A copy of the pipeline without what the weight table already holds (feature
    names, coefficients): the model file stays small and says each thing once."""
    light = copy.deepcopy(pipeline)
    for step, attr in _BIG:
        setattr(light.named_steps[step], attr, None)
    clf = light.named_steps["clf"]
    clf.main_.coef_ = None
    clf.kind_.coef_ = None
    return light


def _fill_pipeline(pipeline: Any, weights: Weights | None) -> Any:
    """Put back what `_strip_pipeline` took out, from the weight table."""
    vec = pipeline.named_steps["vec"]
    if weights is None or vec.vocabulary_ is not None:
        return pipeline
    vec.feature_names_ = list(weights.names)
    vec.vocabulary_ = dict(weights.vocab)
    scale = np.asarray(pipeline.named_steps["scale"].scale_, dtype=float)
    scale = np.where(scale == 0, 1.0, scale)
    coef = weights.table * scale[:, None]  # the table is coef / scale
    clf = pipeline.named_steps["clf"]
    clf.main_.coef_ = coef[:, :1].T.copy()
    clf.kind_.coef_ = coef[:, 1:].T.copy()
    return pipeline


@functools.lru_cache(maxsize=1)
def default_model() -> Model:
    """The shipped model, loaded once per process."""
    return Model.load(DEFAULT_MODEL)


def settle_garbage_collector() -> None:
    """Move everything alive now (imports, the model) out of the collector's sight.

    scikit-learn, SciPy and the model leave ~130,000 container objects that every full
    collection walks (65 ms each); a page allocates enough tuples to trigger one every
    few pages, which cost ~15% of cleaning time. `gc.freeze` is Python's own remedy.
    """
    gc.collect()
    gc.freeze()


def __getattr__(name: str) -> Any:
    # models pickled before the estimator moved to its own module name it here
    if name == "BlockClassifier":
        from .estimator import BlockClassifier

        return BlockClassifier
    raise AttributeError(name)
