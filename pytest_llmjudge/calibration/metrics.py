"""Agreement between a judge's scores and human labels: pure arithmetic, no judge.

Binary labels (1 = the output meets the criteria) against 0..1 scores: AUROC,
accuracy, balanced accuracy, Cohen's kappa, TPR, TNR and expected calibration error,
each with a percentile bootstrap interval; the confusion matrix; the threshold that
maximises balanced accuracy, or meets a target TPR or TNR; and Platt or isotonic
rescaling of scores. Small n is the normal case here (a few dozen labels), so
everything is plain Python and exact.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

ECE_BINS = 10
BOOTSTRAP_RESAMPLES = 1000


class UndefinedMetric(ValueError):
    """A metric that the labels cannot define (AUROC with a single class)."""


@dataclass(frozen=True)
class Confusion:
    tp: int
    fp: int
    tn: int
    fn: int

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.tn + self.fn

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / self.n

    @property
    def tpr(self) -> float:
        positives = self.tp + self.fn
        return self.tp / positives if positives else math.nan

    @property
    def tnr(self) -> float:
        negatives = self.tn + self.fp
        return self.tn / negatives if negatives else math.nan

    @property
    def balanced_accuracy(self) -> float:
        return (self.tpr + self.tnr) / 2

    @property
    def kappa(self) -> float:
        """Cohen's kappa: agreement beyond what the two marginals give by chance."""
        n = self.n
        observed = self.accuracy
        chance = (((self.tp + self.fp) * (self.tp + self.fn)) +
                  ((self.tn + self.fn) * (self.tn + self.fp))) / (n * n)
        return 1.0 if chance == 1.0 else (observed - chance) / (1 - chance)


def confusion(scores: Sequence[float], labels: Sequence[int], threshold: float) -> Confusion:
    tp = fp = tn = fn = 0
    for score, label in zip(scores, labels, strict=True):
        predicted = score >= threshold
        if predicted and label:
            tp += 1
        elif predicted:
            fp += 1
        elif label:
            fn += 1
        else:
            tn += 1
    return Confusion(tp, fp, tn, fn)


def auroc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """The probability that a random positive outscores a random negative (ties count
    half): the Mann-Whitney U statistic over average ranks."""
    positives = sum(1 for label in labels if label)
    negatives = len(labels) - positives
    if not positives or not negatives:
        raise UndefinedMetric(
            f"AUROC is undefined: every label is {labels[0] if labels else '?'}, so there is "
            "no pair of a positive and a negative example to rank")
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and scores[order[end + 1]] == scores[order[start]]:
            end += 1
        for k in range(start, end + 1):
            ranks[order[k]] = (start + end) / 2 + 1
        start = end + 1
    rank_sum = sum(rank for rank, label in zip(ranks, labels, strict=True) if label)
    return (rank_sum - positives * (positives + 1) / 2) / (positives * negatives)


def ece(scores: Sequence[float], labels: Sequence[int], bins: int = ECE_BINS) -> float:
    """Expected calibration error: the gap between mean score and the share of positives,
    per equal-width score bin, weighted by the bin's share of examples."""
    totals = [[0.0, 0.0, 0] for _ in range(bins)]
    for score, label in zip(scores, labels, strict=True):
        slot = totals[min(bins - 1, int(score * bins))]
        slot[0] += score
        slot[1] += label
        slot[2] += 1
    n = len(scores)
    return sum(abs(s - p) / c * (c / n) for s, p, c in totals if c)


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float

    def text(self) -> str:
        return f"{self.value:.3f} [{self.low:.3f}, {self.high:.3f}]"


def bootstrap(metric: Callable[[Sequence[float], Sequence[int]], float],
              scores: Sequence[float], labels: Sequence[int], *,
              resamples: int = BOOTSTRAP_RESAMPLES, seed: int = 0,
              level: float = 0.95) -> Estimate:
    """The metric with a percentile bootstrap interval (examples resampled with
    replacement; a resample where the metric is undefined is drawn again)."""
    value = metric(scores, labels)
    rng = random.Random(seed)
    n = len(scores)
    draws: list[float] = []
    attempts = 0
    while len(draws) < resamples and attempts < resamples * 10:
        attempts += 1
        picks = [rng.randrange(n) for _ in range(n)]
        try:
            drawn = metric([scores[i] for i in picks], [labels[i] for i in picks])
        except UndefinedMetric:
            continue
        if not math.isnan(drawn):
            draws.append(drawn)
    if not draws:
        return Estimate(value, math.nan, math.nan)
    draws.sort()
    tail = (1 - level) / 2
    low = draws[int(tail * (len(draws) - 1))]
    high = draws[math.ceil((1 - tail) * (len(draws) - 1))]
    return Estimate(value, low, high)


def candidate_thresholds(scores: Sequence[float]) -> list[float]:
    """Midpoints between consecutive distinct scores, and the two ends: every distinct
    split of the examples, each at the threshold farthest from both neighbours."""
    distinct = sorted(set(scores))
    middles = [(a + b) / 2 for a, b in itertools.pairwise(distinct)]
    return [0.0, *middles, min(1.0, distinct[-1] + 1e-9) if distinct else 1.0]


def fit_threshold(scores: Sequence[float], labels: Sequence[int], *,
                  target_tpr: float | None = None,
                  target_tnr: float | None = None) -> float:
    """The threshold maximising balanced accuracy; or, with a target, the one that
    meets it and does best on the other rate. Ties go to the threshold nearest 0.5."""
    if target_tpr is not None and target_tnr is not None:
        raise ValueError("give a target TPR or a target TNR, not both")
    best: tuple[float, float, float] | None = None
    for threshold in candidate_thresholds(scores):
        matrix = confusion(scores, labels, threshold)
        if target_tpr is not None:
            if matrix.tpr < target_tpr:
                continue
            goal = matrix.tnr
        elif target_tnr is not None:
            if matrix.tnr < target_tnr:
                continue
            goal = matrix.tpr
        else:
            goal = matrix.balanced_accuracy
        rank = (goal, -abs(threshold - 0.5), threshold)
        if best is None or rank > best:
            best = rank
    if best is None:
        raise ValueError("no threshold meets the target on these labels")
    return best[2]


@dataclass(frozen=True)
class Platt:
    """Logistic rescaling: P(label 1) = 1 / (1 + exp(-(a * score + b)))."""

    a: float
    b: float

    def __call__(self, score: float) -> float:
        z = self.a * score + self.b
        return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def fit_platt(scores: Sequence[float], labels: Sequence[int], steps: int = 100) -> Platt:
    """Maximum likelihood by Newton's method, with Platt's smoothed targets (so that
    separable labels do not send the slope to infinity)."""
    positives = sum(labels)
    negatives = len(labels) - positives
    hi, lo = (positives + 1) / (positives + 2), 1 / (negatives + 2)
    targets = [hi if label else lo for label in labels]
    a, b = 1.0, 0.0
    for _ in range(steps):
        ga = gb = haa = hab = hbb = 0.0
        for score, target in zip(scores, targets, strict=True):
            p = Platt(a, b)(score)
            weight = max(p * (1 - p), 1e-12)
            ga += (p - target) * score
            gb += p - target
            haa += weight * score * score
            hab += weight * score
            hbb += weight
        det = haa * hbb - hab * hab
        if abs(det) < 1e-12:
            break
        da, db = (hbb * ga - hab * gb) / det, (haa * gb - hab * ga) / det
        a, b = a - da, b - db
        if abs(da) + abs(db) < 1e-10:
            break
    return Platt(a, b)


@dataclass(frozen=True)
class Isotonic:
    """A non-decreasing step function from score to P(label 1) (pool adjacent violators)."""

    edges: tuple[float, ...]  # the lowest score of each block
    values: tuple[float, ...]

    def __call__(self, score: float) -> float:
        value = self.values[0]
        for edge, block in zip(self.edges, self.values, strict=True):
            if score >= edge:
                value = block
        return value


def fit_isotonic(scores: Sequence[float], labels: Sequence[int]) -> Isotonic:
    pairs = sorted(zip(scores, labels, strict=True))
    blocks: list[list[float]] = []  # [lowest score, sum of labels, count]
    for score, label in pairs:
        blocks.append([score, float(label), 1.0])
        while len(blocks) > 1 and blocks[-2][1] / blocks[-2][2] >= blocks[-1][1] / blocks[-1][2]:
            last = blocks.pop()
            blocks[-1][1] += last[1]
            blocks[-1][2] += last[2]
    return Isotonic(tuple(b[0] for b in blocks), tuple(b[1] / b[2] for b in blocks))
