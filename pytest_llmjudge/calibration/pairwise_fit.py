"""Fitting a pairwise head: how a comparison's signals combine into P(candidate better),
and how wide its tie band is.

The signals (judging/pairwise.py's Signals) are the sum of the candidate's logit
P(better) over both orders and the difference of the two outputs' logit P(YES) judged
alone. Both change sign when the outputs swap, so the combination is a logistic
regression through the origin: two weights, no bias, nothing that could prefer the
candidate for being the candidate. With two weights a light ridge is enough; no
regularisation search is needed. The weights are kept non-negative (fit_weights).

The tie band: a TIE means the judge cannot tell. The margin is the narrowest band
around 0.5 outside which the combination's decisions, scored out of fold on the
labels it is fitted on, were right at least DECIDED_ACCURACY of the time, tying no
more than MAX_TIES of the pairs. Where no band within that cap reaches it, the cap is
used and the report says the target was missed.

The same non-negative fit, with a bias, weighs a judge panel's members
(head_fit.fit_panel): there too a member's YES must never count against the output.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import heads

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

DECIDED_ACCURACY = 0.70
MAX_TIES = 0.40
# L2 on the two weights (raw logit units): light beside the log-loss of ~100 pairs,
# enough to keep them finite when the labels separate perfectly.
RIDGE = 1.0
MARGINS = tuple(round(0.005 * i, 3) for i in range(0, 81))  # 0 .. 0.4


def fit_weights(x: NDArray[np.float64], y: NDArray[np.float64], ridge: float = RIDGE, *,
                nonnegative: bool = True, intercept: bool = False) -> NDArray[np.float64]:
    """Logistic regression (Newton's method, L2 ``ridge``), through the origin unless
    ``intercept``: then one more weight, last, for a constant column, neither penalised
    nor kept non-negative (a panel head's bias). With ``nonnegative`` a signal whose
    weight comes out negative is dropped (weight 0) and the rest refitted: a head never
    reads a judge's preference as evidence against the output it prefers. (On LLMBar's
    adversarial pairs, built so that the worse output looks better, the 1.5B judge's
    pairwise preference ranks below chance, and an unconstrained fit turns it round; on
    its natural pairs the same preference is right more often than not, so the inverted
    weight would mislead there.)"""
    import numpy as np

    signals = x.shape[1]
    if intercept:
        x = np.column_stack([x, np.ones(len(y))])
    active = list(range(signals))
    while True:
        w = np.zeros(x.shape[1])
        columns = active + ([signals] if intercept else [])
        if not columns:
            return w  # every signal pointed the wrong way: no preference at all
        penalty = np.array([ridge if c < signals else 0.0 for c in columns])
        w[columns] = _newton(x[:, columns], y, penalty)
        negative = [i for i in active if w[i] < 0]
        if not nonnegative or not negative:
            return w
        active.remove(min(negative, key=lambda i: w[i]))


def _newton(x: NDArray[np.float64], y: NDArray[np.float64],
            ridge: NDArray[np.float64]) -> NDArray[np.float64]:
    import numpy as np

    w = np.zeros(x.shape[1])
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -50.0, 50.0)))
        grad = x.T @ (p - y) + ridge * w
        hess = (x.T * (p * (1 - p) + 1e-9)) @ x + np.diag(ridge) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hess, grad)
        w -= step
        if float(np.abs(step).max()) < 1e-10:
            break
    return np.asarray(w)


def predict(w: Sequence[float] | NDArray[np.float64], x: NDArray[np.float64]) -> list[float]:
    return [heads.sigmoid(float(sum(a * b for a, b in zip(w, row, strict=True))))
            for row in x]


def out_of_fold(x: NDArray[np.float64], y: NDArray[np.float64], seed: int,
                k: int = heads.FOLDS, *, nonnegative: bool = True,
                intercept: bool = False) -> list[float]:
    """Each row scored by weights fitted without its fold."""
    import numpy as np

    scores = [0.0] * len(y)
    for held in heads.folds(y, k, seed):
        train = np.setdiff1d(np.arange(len(y)), held)
        w = fit_weights(x[train], y[train], nonnegative=nonnegative, intercept=intercept)
        rows = np.column_stack([x[held], np.ones(len(held))]) if intercept else x[held]
        for index, score in zip(held, predict(w, rows), strict=True):
            scores[int(index)] = score
    return scores


@dataclass(frozen=True)
class Decided:
    """Three-way figures at one tie margin."""

    margin: float
    ties: float  # share of pairs tied
    accuracy: float  # over the decided pairs (nan when none is decided)
    half: float  # over all pairs, a tie counted as half right

    def text(self) -> str:
        decided = "none decided" if math.isnan(self.accuracy) else f"{self.accuracy:.3f}"
        return (f"accuracy where decided {decided}, ties {self.ties:.0%}, accuracy with a "
                f"tie as half {self.half:.3f}")


def decided(scores: Sequence[float], labels: Sequence[int], margin: float) -> Decided:
    """``labels``: 1 when the candidate is the better output."""
    right = ties = 0
    for score, label in zip(scores, labels, strict=True):
        if abs(score - 0.5) <= margin:
            ties += 1
        elif (score > 0.5) == bool(label):
            right += 1
    n = len(labels)
    made = n - ties
    return Decided(margin, ties / n, right / made if made else math.nan,
                   (right + ties / 2) / n)


def outcome_figures(outcomes: Sequence[str], labels: Sequence[int]) -> Decided:
    """The same figures for verdicts already decided (BETTER, WORSE, TIE)."""
    as_scores = [1.0 if o == "BETTER" else 0.0 if o == "WORSE" else 0.5 for o in outcomes]
    return decided(as_scores, labels, 0.0)


def choose_margin(scores: Sequence[float], labels: Sequence[int]) -> tuple[float, bool]:
    """The narrowest margin whose decided accuracy reaches DECIDED_ACCURACY with at
    most MAX_TIES tied; else the widest within the cap. Returns (margin, reached)."""
    widest = 0.0
    for margin in MARGINS:
        figures = decided(scores, labels, margin)
        if figures.ties > MAX_TIES:
            break
        widest = margin
        if not math.isnan(figures.accuracy) and figures.accuracy >= DECIDED_ACCURACY:
            return margin, True
    return widest, False
