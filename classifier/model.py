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
from sklearn.pipeline import Pipeline

from .features import page_features
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


class ModelError(RuntimeError):
    """Raised when a model file is missing or not one of ours."""


@dataclass
class Model:
    """A fitted block classifier and the card that says what it is."""

    pipeline: Pipeline
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return [str(c) for c in self.pipeline.classes_]

    def predict_proba(self, feats: Sequence[dict[str, float]]) -> np.ndarray:
        """Class probabilities, columns in `self.labels` order."""
        if not feats:
            return np.zeros((0, len(self.labels)))
        return self.pipeline.predict_proba(list(feats))

    def label_blocks(self, blocks: list[Block], explain: bool = False) -> list[Block]:
        """Set `label` and `confidence` on every block of one page (in place)."""
        feats = page_features(blocks)
        if not feats:
            return blocks
        proba = self.predict_proba(feats)
        best = proba.argmax(axis=1)
        labels = self.labels
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
        labels = self.labels
        if label not in labels:
            return []
        k = labels.index(label)
        other = labels.index("content") if label != "content" else labels.index("boilerplate")
        weights = clf.coef_[k] - clf.coef_[other]
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
        joblib.dump({"pipeline": self.pipeline, "card": self.card}, path, compress=3)
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
            raise ModelError(f"cannot load model {path}: {exc}") from exc
        if not isinstance(obj, dict) or "pipeline" not in obj:
            raise ModelError(f"{path} is not a boilerplate-classifier model")
        model = cls(pipeline=obj["pipeline"], card=obj.get("card", {}))
        model.card.setdefault("runtime", {})["load_seconds"] = round(
            time.perf_counter() - start, 4
        )
        return model


@functools.lru_cache(maxsize=1)
def default_model() -> Model:
    """The shipped model, loaded once per process."""
    return Model.load(DEFAULT_MODEL)
