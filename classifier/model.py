"""Model stage: feature dicts -> label + confidence per block, with a persisted estimator.

The estimator is a plain scikit-learn Pipeline (DictVectorizer -> MaxAbsScaler ->
LogisticRegression), so every weight has a feature name and a dropped block can be
explained. It is saved with joblib next to a JSON model card; the default model is
loaded once per process and cached.
"""

from __future__ import annotations

import functools
import gc
import json
import time
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .errors import ModelError
from .features import (
    BAGS,
    DENSE,
    PageFeatures,
    block_context_inputs,
    context_features,
    extract,
)
from .segment import Block

LABELS = ("content", "donation_appeal", "related_links", "counter_widget", "boilerplate")
_HERE = Path(__file__).resolve().parent


def _default_model_path() -> Path:
    """models/default.joblib of a checkout, else the copy a wheel installs."""
    for candidate in (_HERE.parent / "models", _HERE / "_models"):
        if (candidate / "default.joblib").is_file():
            return candidate / "default.joblib"
    return _HERE.parent / "models" / "default.joblib"


DEFAULT_MODEL = _default_model_path()


class BlockClassifier(ClassifierMixin, BaseEstimator):
    """Two linear models: "is this block content?", then "if not, what kind is it?".

    One multinomial model drowns the rare kinds (a few hundred appeals among half a
    million boilerplate blocks); splitting the question lets the first model be
    calibrated on the big content/boilerplate decision while the second weighs the rare
    kinds up (by the square root of their rarity, so they do not flood the output).
    """

    def __init__(self, C: float = 1.0, kind_C: float = 1.0, max_iter: int = 300,
                 random_state: int = 0) -> None:  # fmt: skip
        self.C = C
        self.kind_C = kind_C
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(
        self, X: Any, y: Any, sample_weight: Any = None, kind_weight: Any = None
    ) -> BlockClassifier:
        """Fit both models; `kind_weight` says how far to trust each row's kind label.

        Gold alignment only knows "content or not": its boilerplate rows include
        unlabelled appeals and related boxes, so the kind model should lean on hand
        labels. The kind model also sees (down-weighted) content rows, so that its view
        of "is this an appeal?" is meaningful for every block, story paragraphs included.
        """
        y = np.asarray(y)
        present = set(y)
        self.classes_ = np.array([lab for lab in LABELS if lab in present] or ["content"])
        is_content = y == "content"
        self.main_ = LogisticRegression(
            C=self.C, max_iter=self.max_iter, random_state=self.random_state
        ).fit(X, is_content.astype(int), sample_weight=sample_weight)
        kw = np.ones(len(y)) if kind_weight is None else np.asarray(kind_weight, dtype=float)
        other = kw > 0
        kinds = np.unique(y[other])
        if len(set(kinds) - {"content"}) >= 2:
            yo, wo = y[other], kw[other]
            mass = {k: wo[yo == k].sum() for k in kinds}
            top = max(mass.values())
            balance = np.array([(top / mass[k]) ** 0.5 for k in yo])
            self.kind_ = LogisticRegression(
                C=self.kind_C, max_iter=self.max_iter, random_state=self.random_state
            ).fit(X[other], yo, sample_weight=wo * balance)
        else:
            self.kind_ = None
            rest = [k for k in kinds if k != "content"]
            self.only_kind_ = str(rest[0]) if rest else "boilerplate"
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        if len(self.main_.classes_) == 2:
            p = self.main_.predict_proba(X)[:, 1]
        else:
            p = np.full(X.shape[0], float(self.main_.classes_[0]))
        kp = self.kind_.predict_proba(X) if self.kind_ is not None else None
        return self.combine(p, kp)

    def combine(self, p: np.ndarray, kind_proba: np.ndarray | None) -> np.ndarray:
        """Class probabilities from P(content) and the kind model's probabilities."""
        classes = list(self.classes_)
        out = np.zeros((len(p), len(classes)))
        if "content" in classes:
            out[:, classes.index("content")] = p
        if self.kind_ is not None:
            kinds = list(self.kind_.classes_)
            cols = [j for j, lab in enumerate(kinds) if lab != "content"]
            norm = np.maximum(kind_proba[:, cols].sum(axis=1), 1e-12)
            for j in cols:
                out[:, classes.index(kinds[j])] = (1 - p) * kind_proba[:, j] / norm
        elif self.only_kind_ in classes:
            out[:, classes.index(self.only_kind_)] = 1 - p
        return out

    def special_evidence(self, X: Any) -> np.ndarray:
        """The kind model's own P(appeal, related box or counter), content included.

        The second pass needs it: it is how a donation appeal in the middle of the
        story, which the content model places by position, can be taken out again.
        """
        kp = self.kind_.predict_proba(X) if self.kind_ is not None else None
        return self.evidence(kp, X.shape[0])

    def evidence(self, kind_proba: np.ndarray | None, n: int) -> np.ndarray:
        if self.kind_ is None or kind_proba is None:
            return np.zeros(n)
        kinds = list(self.kind_.classes_)
        cols = [j for j, lab in enumerate(kinds) if lab not in ("content", "boilerplate")]
        if not cols:
            return np.zeros(n)
        return kind_proba[:, cols].max(axis=1)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[decide(self.predict_proba(X), list(self.classes_))]


def revise_proba(
    reviser: LogisticRegression,
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
    # LogisticRegression.predict_proba, without its per-call input validation
    p2 = _sigmoid(X2 @ reviser.coef_[0] + reviser.intercept_[0])
    out = proba * ((1 - p2) / np.maximum(1 - p1, 1e-9))[:, None]
    out[:, c] = p2
    return out


def decide(proba: np.ndarray, classes: list[str]) -> np.ndarray:
    """Content when P(content) >= 0.5, else the most likely other kind."""
    if "content" not in classes:
        return proba.argmax(axis=1)
    c = classes.index("content")
    others = proba.copy()
    others[:, c] = -1.0
    return np.where(proba[:, c] >= 0.5, c, others.argmax(axis=1))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class Weights:
    """The two linear models as one weight table over feature names: coef / scale.

    A logistic regression after MaxAbsScaler is a dot product, so a block's score is the
    sum of its features' weights. Scoring from this table skips sklearn's per-call
    checks and, above all, the dict-per-block vectorisation: a page repeats a few dozen
    ancestor token sets, and each set's summed weights are computed once and cached.
    Column 0 is the content model, columns 1.. the kind model's classes.
    """

    vocab: dict[str, int]
    table: np.ndarray  # (features, 1 + kinds)
    dense: np.ndarray  # (len(DENSE), 1 + kinds): the rows of the dense columns
    bias: np.ndarray  # (1 + kinds,)
    binary_kind: bool  # a two-class kind model has one coefficient row
    bag_vocab: list[dict[str, int]] = field(default_factory=list)  # per BAGS prefix: token -> row
    bag_cache: list[dict[Any, np.ndarray]] = field(default_factory=list)

    @classmethod
    def from_pipeline(cls, pipeline: Pipeline) -> Weights | None:
        vocab = pipeline.named_steps["vec"].vocabulary_
        scale = np.asarray(pipeline.named_steps["scale"].scale_, dtype=float)
        scale = np.where(scale == 0, 1.0, scale)
        clf = pipeline.named_steps["clf"]
        if len(clf.main_.classes_) != 2 or clf.kind_ is None:
            return None
        coefs = [clf.main_.coef_[0]] + list(clf.kind_.coef_)
        bias = np.concatenate([clf.main_.intercept_, clf.kind_.intercept_])
        table = (np.vstack(coefs) / scale).T.copy()
        dense = np.zeros((len(DENSE), table.shape[1]))
        for i, name in enumerate(DENSE):
            j = vocab.get(name)
            if j is not None:
                dense[i] = table[j]
        bag_vocab: list[dict[str, int]] = [{} for _ in BAGS]
        for name, j in vocab.items():
            for k, prefix in enumerate(BAGS):
                if name.startswith(prefix):
                    bag_vocab[k][name[len(prefix) :]] = j
        return cls(vocab=dict(vocab), table=table, dense=dense, bias=bias,
                   binary_kind=clf.kind_.coef_.shape[0] == 1, bag_vocab=bag_vocab,
                   bag_cache=[{} for _ in BAGS])  # fmt: skip

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

    def _bag_rows(self, keys: list[tuple[int, Any]]) -> np.ndarray:
        """Summed weights of each (bag kind, token set), from the cache or computed at once."""
        out = np.empty((len(keys), self.table.shape[1]))
        missing: list[int] = []
        for i, (k, tokens) in enumerate(keys):
            vec = self.bag_cache[k].get(tokens)
            if vec is None:
                missing.append(i)
            else:
                out[i] = vec
        if missing:
            cols = []
            for i in missing:
                k, tokens = keys[i]
                found = set(map(self.bag_vocab[k].get, tokens))
                found.discard(None)
                cols.append(found)
            sums = self._sum_rows(cols)
            for i, vec in zip(missing, sums, strict=True):
                out[i] = vec
                k, tokens = keys[i]
                cache = self.bag_cache[k]
                if len(cache) > 100_000:  # bounded: a crawl of many sites meets many sets
                    cache.clear()
                cache[tokens] = vec
        return out

    def scores(self, feats: PageFeatures) -> np.ndarray:
        """Raw linear scores (blocks, 1 + kinds), intercepts included."""
        z = feats.dense @ self.dense
        uniq: dict[tuple[int, Any], int] = {}
        rows = np.empty((len(feats), len(BAGS)), dtype=np.int64)
        for i, bags in enumerate(feats.bags):
            for k, tokens in enumerate(bags):
                key = (k, tokens)
                j = uniq.get(key)
                if j is None:
                    j = uniq[key] = len(uniq)
                rows[i, k] = j
        z += self._bag_rows(list(uniq))[rows].sum(axis=1)
        get = self.vocab.get
        cols = []
        for names in feats.names:
            found = set(map(get, names))
            found.discard(None)
            cols.append(found)
        z += self._sum_rows(cols)
        return z + self.bias

    def predict(self, feats: PageFeatures) -> tuple[np.ndarray, np.ndarray]:
        """P(content) and the kind model's class probabilities, per block."""
        z = self.scores(feats)
        p = _sigmoid(z[:, 0])
        if self.binary_kind:
            k1 = _sigmoid(z[:, 1])
            return p, np.column_stack([1 - k1, k1])
        return p, _softmax(z[:, 1:])


@dataclass
class Model:
    """A fitted block classifier and the card that says what it is."""

    pipeline: Pipeline
    card: dict[str, Any] = field(default_factory=dict)
    reviser: LogisticRegression | None = None  # second pass over neighbours' verdicts

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    @functools.cached_property
    def weights(self) -> Weights | None:
        """The fitted pipeline as weight tables (None for a degenerate model)."""
        return Weights.from_pipeline(self.pipeline)

    def first_pass(self, feats: PageFeatures) -> tuple[np.ndarray, np.ndarray]:
        """First-pass class probabilities (columns in `labels` order) and the kind
        model's special-kind evidence, for one page's features."""
        if not len(feats):
            return np.zeros((0, len(self.labels))), np.zeros(0)
        clf = self.pipeline.named_steps["clf"]
        w = self.weights
        if w is None:  # e.g. a model trained on one class only: take sklearn's path
            X = self.pipeline.named_steps["scale"].transform(
                self.pipeline.named_steps["vec"].transform(feats.to_dicts())
            )
            return clf.predict_proba(X), clf.special_evidence(X)
        p, kind_proba = w.predict(feats)
        return clf.combine(p, kind_proba), clf.evidence(kind_proba, len(p))

    def label_blocks(self, blocks: list[Block], explain: bool = False) -> list[Block]:
        """Set `label` and `confidence` on every block of one page (in place)."""
        if not blocks:
            return blocks
        return self.label_features(blocks, extract(blocks), explain)

    def label_features(
        self, blocks: list[Block], feats: PageFeatures, explain: bool = False
    ) -> list[Block]:
        """`label_blocks` once the features are computed (the benchmark times both)."""
        proba, evidence = self.first_pass(feats)
        labels = self.labels
        if self.reviser is not None and "content" in labels:
            proba = revise_proba(
                self.reviser, proba, evidence, labels, *block_context_inputs(blocks)
            )
        best = decide(proba, labels)
        for b, k, row in zip(blocks, best, proba, strict=True):
            b.label = labels[k]
            b.confidence = float(row[k])
        if explain:
            for b, f in zip(blocks, feats.to_dicts(), strict=True):
                b.why = self.explain(f, b.label)
        return blocks

    def explain(self, feats: dict[str, float], label: str, top: int = 4) -> list[str]:
        """The features that pushed a block towards `label` rather than `content`."""
        vec = self.pipeline.named_steps["vec"]
        scale = self.pipeline.named_steps["scale"]
        clf = self.pipeline.named_steps["clf"]
        if label == "content":
            weights = clf.main_.coef_[0]
        elif label == "boilerplate" or clf.kind_ is None:
            weights = -clf.main_.coef_[0]  # what made it "not content"
        else:
            kinds = list(clf.kind_.classes_)
            if label not in kinds or clf.kind_.coef_.shape[0] != len(kinds):
                return []
            k = kinds.index(label)
            base = kinds.index("boilerplate") if "boilerplate" in kinds else k
            weights = clf.kind_.coef_[k] - (clf.kind_.coef_[base] if base != k else 0)
        contrib: list[tuple[float, str]] = []
        vocab = vec.vocabulary_
        for name, value in feats.items():
            j = vocab.get(name)
            if j is None or not value:
                continue
            s = scale.scale_[j] or 1.0
            contrib.append((weights[j] * value / s, name))
        contrib.sort(reverse=True)
        return [f"{name} ({c:+.2f})" for c, name in contrib[:top] if c > 0]

    def save(self, path: Path) -> Path:
        """Write `<path>` (joblib, compressed) and `<path minus .joblib>.card.json`."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump(
            {"pipeline": self.pipeline, "reviser": self.reviser, "card": self.card},
            path,
            compress=3,
        )
        card_path = path.with_suffix(".card.json")
        card_path.write_text(json.dumps(self.card, indent=2, ensure_ascii=False) + "\n")
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
        if not isinstance(obj, dict) or "pipeline" not in obj:
            raise ModelError(f"{path} is not a boilerplate-classifier model")
        model = cls(pipeline=obj["pipeline"], card=obj.get("card", {}),
                    reviser=obj.get("reviser"))  # fmt: skip
        model.card.setdefault("runtime", {})["load_seconds"] = round(
            time.perf_counter() - start, 4
        )
        return model


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
