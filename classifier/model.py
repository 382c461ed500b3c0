"""Model stage: feature dicts -> label + confidence per block, with a persisted estimator.

The estimator is a plain scikit-learn Pipeline (DictVectorizer -> MaxAbsScaler ->
LogisticRegression), so every weight has a feature name and a dropped block can be
explained. It is saved with joblib next to a JSON model card; the default model is
loaded once per process and cached.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from .errors import ModelError
from .features import block_context_inputs, context_features, page_features
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
        n = X.shape[0]
        classes = list(self.classes_)
        out = np.zeros((n, len(classes)))
        p = self.main_.predict_proba(X)[:, 1] if len(self.main_.classes_) == 2 else np.full(
            n, float(self.main_.classes_[0])
        )
        if "content" in classes:
            out[:, classes.index("content")] = p
        if self.kind_ is not None:
            kp = self.kind_.predict_proba(X)
            kinds = list(self.kind_.classes_)
            cols = [j for j, lab in enumerate(kinds) if lab != "content"]
            norm = np.maximum(kp[:, cols].sum(axis=1), 1e-12)
            for j in cols:
                out[:, classes.index(kinds[j])] = (1 - p) * kp[:, j] / norm
        elif self.only_kind_ in classes:
            out[:, classes.index(self.only_kind_)] = 1 - p
        return out

    def special_evidence(self, X: Any) -> np.ndarray:
        """The kind model's own P(appeal, related box or counter), content included.

        The second pass needs it: it is how a donation appeal in the middle of the
        story, which the content model places by position, can be taken out again.
        """
        if self.kind_ is None:
            return np.zeros(X.shape[0])
        kinds = list(self.kind_.classes_)
        cols = [j for j, lab in enumerate(kinds) if lab not in ("content", "boilerplate")]
        if not cols:
            return np.zeros(X.shape[0])
        return self.kind_.predict_proba(X)[:, cols].max(axis=1)

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
    p2 = reviser.predict_proba(X2)[:, 1]
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


@dataclass
class Model:
    """A fitted block classifier and the card that says what it is."""

    pipeline: Pipeline
    card: dict[str, Any] = field(default_factory=dict)
    reviser: LogisticRegression | None = None  # second pass over neighbours' verdicts

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    def predict_proba(self, feats: Sequence[dict[str, float]]) -> np.ndarray:
        """First-pass class probabilities, columns in `self.labels` order."""
        return self.first_pass(feats)[0]

    def first_pass(self, feats: Sequence[dict[str, float]]) -> tuple[np.ndarray, np.ndarray]:
        """First-pass probabilities and the kind model's special-kind evidence."""
        if not feats:
            return np.zeros((0, len(self.labels))), np.zeros(0)
        steps = self.pipeline.named_steps
        X = steps["scale"].transform(self.vectorize(feats))
        return steps["clf"].predict_proba(X), steps["clf"].special_evidence(X)

    def vectorize(self, feats: Sequence[dict[str, float]]) -> sp.csr_matrix:
        """Same result as the pipeline's DictVectorizer, without its per-value type checks.

        DictVectorizer.transform was the single largest cost per page.
        """
        vocab = self.pipeline.named_steps["vec"].vocabulary_
        get = vocab.get
        indices: list[int] = []
        data: list[float] = []
        indptr = [0]
        for f in feats:
            for name, value in f.items():
                j = get(name)
                if j is not None:
                    indices.append(j)
                    data.append(value)
            indptr.append(len(indices))
        return sp.csr_matrix(
            (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32), indptr),
            shape=(len(feats), len(vocab)),
        )

    def label_blocks(self, blocks: list[Block], explain: bool = False) -> list[Block]:
        """Set `label` and `confidence` on every block of one page (in place)."""
        feats = page_features(blocks)
        if not feats:
            return blocks
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
            for b, f in zip(blocks, feats, strict=True):
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
            if label not in kinds:
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
