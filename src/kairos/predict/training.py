"""Fitting, validating, explaining and storing a predictive model (scikit-learn).

- **Time-split validation.** With ``w`` = ``within_days``: a model is fitted on the
  features at T1 = now - 2w labelled by the goal in [T1, T1 + w), and judged on the features
  at T2 = now - w labelled by the goal in [T2, now): AUC (``roc_auc_score``), the Brier score
  and a 10-bin reliability table. Then the **final model** is fitted on the latest complete
  window (the features at T2 and their labels) and every live contact is scored at now.
- **Features** go through a signed ``log1p`` (counts and money are long-tailed) before
  either algorithm; explanations report the raw values.
- **Explanations.** Logistic regression: coefficient x standardised value (log-odds),
  exact for the model. Gradient boosting: for each of the model's ``EXPLAIN_TOP`` most
  important features, the change in the contact's probability when that feature alone is
  set to its median over the training contacts (a one-feature ablation: cheap, honest, not
  additive — the contributions need not sum to the probability).
- **Importances** (the model card): permutation importance on the holdout (the AUC lost
  when a feature's column is shuffled), for both algorithms.
- **Storage.** The fitted estimator is ``joblib`` (pickle) bytes in ``predictive_model.artifact``.
  Pickle runs code when loaded, so these bytes are only ever written by this module and read
  back from our own database; nothing accepts a model from outside.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
from threadpoolctl import threadpool_limits

ALGORITHMS = ("gradient_boosting", "logistic_regression")
#: A training needs at least this many converted and this many unconverted contacts in each
#: of its two windows.
MIN_POSITIVES = 10
MIN_NEGATIVES = 10
#: How many features a gradient-boosting explanation considers (the most important ones).
EXPLAIN_TOP = 8
#: How many contributions are stored per contact.
CONTRIBUTIONS = 3
#: Rows of the holdout the permutation importance uses at most.
IMPORTANCE_ROWS = 5_000
#: OpenMP/BLAS threads scikit-learn may use: one. The worker shares its machine with the
#: server and the database, and OpenMP threads that spin-wait on a loaded machine made a
#: small gradient-boosting fit 25 times slower than one thread did.
THREADS = 1


def single_threaded() -> Any:
    return threadpool_limits(limits=THREADS)


class TrainingFailed(Exception):
    """The model cannot be trained (too few conversions …); the message says why."""

    def __init__(self, reason: str, code: str = "training_failed") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def transform(x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    return np.asarray(np.sign(x) * np.log1p(np.abs(x)))


def estimator(algorithm: str) -> Any:
    # scikit-learn is imported where it is used: importing it costs every process that
    # loads the API (serve, worker, the CLI) a second at start-up
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    if algorithm == "logistic_regression":
        return Pipeline([("scale", StandardScaler()), ("model", LogisticRegression(max_iter=1000))])
    return HistGradientBoostingClassifier(
        max_iter=100, learning_rate=0.1, max_leaf_nodes=31, l2_regularization=1.0, random_state=0,
        early_stopping=False,
    )  # fmt: skip


def check_labels(y: np.ndarray[Any, Any], window: str) -> None:
    positives = int(y.sum())
    negatives = int(len(y) - positives)
    if positives < MIN_POSITIVES:
        raise TrainingFailed(
            f"too few conversions to learn from: {positives} contacts converted in the {window} window "
            f"(at least {MIN_POSITIVES} needed)",
            code="too_few_positives",
        )
    if negatives < MIN_NEGATIVES:
        raise TrainingFailed(
            f"too few contacts who did not convert in the {window} window: {negatives} "
            f"(at least {MIN_NEGATIVES} needed)",
            code="too_few_negatives",
        )


def fit(algorithm: str, x: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> Any:
    model = estimator(algorithm)
    with single_threaded():
        model.fit(transform(x), y)
    return model


def predict(model: Any, x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    with single_threaded():
        return np.asarray(model.predict_proba(transform(x))[:, 1], dtype=np.float64)


def calibration(y: np.ndarray[Any, Any], p: np.ndarray[Any, Any], bins: int = 10) -> list[dict[str, Any]]:
    """The reliability table: per probability decile, contacts, mean predicted, observed rate."""
    out = []
    which = np.minimum((p * bins).astype(int), bins - 1)
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        out.append({
            "low": round(b / bins, 2), "high": round((b + 1) / bins, 2), "contacts": n,
            "mean_predicted": round(float(p[mask].mean()), 6) if n else None,
            "observed_rate": round(float(y[mask].mean()), 6) if n else None,
        })  # fmt: skip
    return out


def importances(
    model: Any, x: np.ndarray[Any, Any], y: np.ndarray[Any, Any], names: list[str]
) -> list[float]:
    """Permutation importance (AUC lost) on at most ``IMPORTANCE_ROWS`` rows of the holdout."""
    rng = np.random.default_rng(0)
    if len(y) > IMPORTANCE_ROWS:
        pick = rng.choice(len(y), IMPORTANCE_ROWS, replace=False)
        x, y = x[pick], y[pick]
    if y.min() == y.max():
        return [0.0] * len(names)
    with single_threaded():
        from sklearn.inspection import permutation_importance

        found = permutation_importance(model, transform(x), y, scoring="roc_auc", n_repeats=2, random_state=0)
    return [float(v) for v in found.importances_mean]


@dataclass
class Fitted:
    """The final model with what explaining needs."""

    algorithm: str
    model: Any
    names: list[str]
    medians: np.ndarray[Any, Any]  # raw feature medians over the final training contacts
    top: list[int]  # feature indexes by importance (most important first)

    def dump(self) -> bytes:
        buf = io.BytesIO()
        joblib.dump(
            {"algorithm": self.algorithm, "model": self.model, "names": self.names,
             "medians": self.medians, "top": self.top},
            buf,
        )  # fmt: skip
        return buf.getvalue()

    @classmethod
    def load(cls, data: bytes) -> Fitted:
        """Only ever called on bytes ``dump`` wrote into our own database (pickle)."""
        d = joblib.load(io.BytesIO(data))
        return cls(d["algorithm"], d["model"], d["names"], d["medians"], d["top"])

    def probabilities(self, x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        return predict(self.model, x)

    def contributions(
        self, x: np.ndarray[Any, Any], p: np.ndarray[Any, Any], k: int = CONTRIBUTIONS
    ) -> list[list[dict[str, Any]]]:
        """The ``k`` largest contributions (by magnitude) of each row, largest first."""
        if self.algorithm == "logistic_regression":
            scaler, lr = self.model.named_steps["scale"], self.model.named_steps["model"]
            z = (transform(x) - scaler.mean_) / np.where(scaler.scale_ == 0, 1.0, scaler.scale_)
            contrib = z * lr.coef_[0]
            cols = np.arange(x.shape[1])
        else:
            cols = np.array(self.top[:EXPLAIN_TOP], dtype=int)
            n = x.shape[0]
            moved = np.tile(x, (len(cols), 1))  # one copy of the rows per explained feature
            for j, c in enumerate(cols):
                moved[j * n : (j + 1) * n, c] = self.medians[c]
            # one prediction call for all of them (each call has a fixed cost: a profile
            # explains one row, and 8 calls took most of its time)
            contrib = p[:, None] - self.probabilities(moved).reshape(len(cols), n).T
        k = min(k, contrib.shape[1])
        order = np.argsort(-np.abs(contrib), axis=1)[:, :k]
        out = []
        for i in range(x.shape[0]):
            row = []
            for j in order[i]:
                value = float(contrib[i, j])
                if value == 0.0:
                    continue
                c = int(cols[j])
                row.append({"feature": self.names[c], "value": round(float(x[i, c]), 4),
                            "contribution": round(value, 6)})  # fmt: skip
            out.append(row)
        return out


def train(
    algorithm: str,
    names: list[str],
    old: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]],
    latest: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]],
) -> tuple[Fitted, dict[str, Any]]:
    """Validate on the time split (fit on ``old``, judge on ``latest``), then fit the final
    model on ``latest``; returns it and the metrics of the model card."""
    x1, y1 = old
    x2, y2 = latest
    check_labels(y1, "training")
    check_labels(y2, "validation")
    t0 = time.perf_counter()
    validating = fit(algorithm, x1, y1)
    p2 = predict(validating, x2)
    from sklearn.metrics import brier_score_loss, roc_auc_score

    auc = float(roc_auc_score(y2, p2))
    brier = float(brier_score_loss(y2, p2))
    imp = importances(validating, x2, y2, names)
    t1 = time.perf_counter()
    final = fit(algorithm, x2, y2)
    t2 = time.perf_counter()
    top = sorted(range(len(names)), key=lambda j: -imp[j])
    fitted = Fitted(algorithm, final, names, np.median(x2, axis=0), top)
    metrics = {
        "auc": round(auc, 6),
        "brier": round(brier, 6),
        "base_rate": round(float(y2.mean()), 6),
        "calibration": calibration(y2, p2),
        "importances": [{"feature": names[j], "importance": round(imp[j], 6)} for j in top],
        "validation_seconds": round(t1 - t0, 3),
        "fit_seconds": round(t2 - t1, 3),
    }
    return fitted, metrics
