"""The scikit-learn estimator that `classifier train` fits (training only).

Kept apart from `model` so that cleaning pages never imports scikit-learn: a shipped
model is scored from its weight table (see `model.Weights`), and this class is only
unpickled when a caller asks for the fitted pipeline itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from .model import LABELS, combine, decide, kind_evidence


class BlockClassifier(ClassifierMixin, BaseEstimator):
    """Two linear models: "is this block content?", then "if not, what kind is it?".

    One multinomial model drowns the rare kinds (a few hundred appeals among half a
    million boilerplate blocks); splitting the question lets the first model be
    calibrated on the big content/boilerplate decision while the second weighs the rare
    kinds up (by their rarity to the power `balance`, so they do not flood the output).
    """

    def __init__(self, C: float = 1.0, kind_C: float = 1.0, max_iter: int = 300,
                 random_state: int = 0, balance: float = 0.5,
                 content_features: Any = None, memory_C: float | None = None,
                 tol: float = 1e-4) -> None:  # fmt: skip
        self.balance = balance  # weight a kind by (rarity ** balance): 0 none, 1 full
        # columns the content model may use (bool mask; None: all): the others get a
        # zero weight there, while the kind model still sees them
        self.content_features = content_features
        # with a mask: the masked-out columns are then fitted on what the site-wide
        # model leaves unexplained, at this C (None: they stay at zero)
        self.memory_C = memory_C
        self.C = C
        self.kind_C = kind_C
        self.max_iter = max_iter
        self.tol = tol  # lbfgs stops at this gradient tolerance or at max_iter
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
        Xc = X
        if self.content_features is not None:
            # a zeroed column gets exactly zero weight under the L2 penalty
            Xc = X @ sp.diags(np.asarray(self.content_features, dtype=np.float64))
        self.main_ = LogisticRegression(
            C=self.C, max_iter=self.max_iter, tol=self.tol, random_state=self.random_state
        ).fit(Xc, is_content.astype(int), sample_weight=sample_weight)
        if self.content_features is not None and self.memory_C is not None:
            self._fit_memory(X, Xc, is_content, sample_weight)
        kw = np.ones(len(y)) if kind_weight is None else np.asarray(kind_weight, dtype=float)
        other = kw > 0
        kinds = np.unique(y[other])
        if len(set(kinds) - {"content"}) >= 2:
            yo, wo = y[other], kw[other]
            mass = {k: wo[yo == k].sum() for k in kinds}
            top = max(mass.values())
            balance = np.array([(top / mass[k]) ** self.balance for k in yo])
            self.kind_ = LogisticRegression(
                C=self.kind_C, max_iter=self.max_iter, tol=self.tol,
                random_state=self.random_state,
            ).fit(X[other], yo, sample_weight=wo * balance)
        else:
            self.kind_ = None
            rest = [k for k in kinds if k != "content"]
            self.only_kind_ = str(rest[0]) if rest else "boilerplate"
        return self

    def _fit_memory(
        self, X: Any, Xc: Any, is_content: np.ndarray, sample_weight: Any
    ) -> None:
        """Fit the masked-out (site-specific) columns on top of the site-wide model.

        The site-wide model's logit enters as one column, scaled up so its weight is
        all but unpenalised; the rest is one linear model again, folded into `main_`.
        A new site rarely carries another site's tokens, so it is scored by the
        site-wide weights, while the training sites' own pages keep their memory.
        """
        mask = np.asarray(self.content_features, dtype=bool)
        if mask.all():
            return
        scale = 10.0
        logit = self.main_.decision_function(Xc)  # Xc: X with the masked columns zeroed
        own = X @ sp.diags((~mask).astype(np.float64))
        Xm = sp.hstack([own, sp.csr_matrix(logit[:, None] / scale)]).tocsr()
        memory = LogisticRegression(
            C=self.memory_C, max_iter=self.max_iter, tol=self.tol,
            random_state=self.random_state,
        ).fit(Xm, is_content.astype(int), sample_weight=sample_weight)
        a = memory.coef_[0, -1] / scale
        coef = np.where(mask, a * self.main_.coef_[0], memory.coef_[0, :-1])
        self.main_.coef_ = coef[None, :]
        self.main_.intercept_ = a * self.main_.intercept_ + memory.intercept_

    def predict_proba(self, X: Any) -> np.ndarray:
        if len(self.main_.classes_) == 2:
            p = self.main_.predict_proba(X)[:, 1]
        else:
            p = np.full(X.shape[0], float(self.main_.classes_[0]))
        kp = self.kind_.predict_proba(X) if self.kind_ is not None else None
        return self.combine(p, kp)

    def combine(self, p: np.ndarray, kind_proba: np.ndarray | None) -> np.ndarray:
        """Class probabilities from P(content) and the kind model's probabilities."""
        kinds = [str(k) for k in self.kind_.classes_] if self.kind_ is not None else None
        only = None if self.kind_ is not None else self.only_kind_
        return combine(p, kind_proba, [str(c) for c in self.classes_], kinds, only)

    def special_evidence(self, X: Any) -> np.ndarray:
        """The kind model's own P(appeal, related box or counter), content included.

        The second pass needs it: it is how a donation appeal in the middle of the
        story, which the content model places by position, can be taken out again.
        """
        kp = self.kind_.predict_proba(X) if self.kind_ is not None else None
        return self.evidence(kp, X.shape[0])

    def evidence(self, kind_proba: np.ndarray | None, n: int) -> np.ndarray:
        kinds = [str(k) for k in self.kind_.classes_] if self.kind_ is not None else None
        return kind_evidence(kind_proba, kinds, n)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[decide(self.predict_proba(X), list(self.classes_))]
