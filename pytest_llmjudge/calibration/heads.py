"""Learned judge heads: a small logistic regression over the judge's own hidden state.

A local judge's last hidden state at the answer position carries more than the one
YES/NO logit read from it (Representation-as-a-Judge). A head is fitted on labelled
examples over that hidden state plus logit(P(YES)), and then scores each matching
request in place of P(YES): one forward pass gives both, so a head costs no extra call.

Fitting is plain numpy (installed with llama-cpp-python): L2-regularised logistic
regression solved by Newton's method in the span of the examples (a thin SVD; with
fewer examples than hidden dimensions the optimum lies there, so the solve is n by n,
not 1536 by 1536). The regularisation is chosen by cross-validation inside each
training fold, and the figures reported are those of the outer folds (nested), so the
choice of regularisation never sees the rows it is scored on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import JudgeConfigError
from .json_fields import field_problem

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

# What a head reads: the hidden state at the answer position, then logit(P(YES)).
FEATURES = "hidden_state+logit"
# What a pairwise head reads: a comparison's signals (judging/pairwise.py's Signals):
# the sum of the candidate's logit P(better) over both orders, and the difference of
# the two outputs' logit P(YES) judged alone. Both change sign when the outputs swap,
# so the head has no bias: it cannot prefer a side for being the candidate.
PAIRWISE_FEATURES = "pairwise_signals.v1"
PAIRWISE_WEIGHTS = 2
# What a panel head reads (llmjudge_panel_aggregate=learned): each member's logit score,
# in the panel's order, plus a bias. Its key's judge is the panel's ("panel: A + B") and
# its prompt the members' prompts, so a panel with other members or roles never matches.
PANEL_FEATURES = "panel_members.v1"
# The L2 strengths tried (on the summed log-loss, over standardised features).
PENALTIES = (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0)
FOLDS = 5
# A fold needs both classes in it, and the inner folds too.
MIN_PER_CLASS = 2 * FOLDS
CLIP = 1e-6


class HeadError(JudgeConfigError):
    """A head that cannot score this request: corrupt, or fitted for another shape."""


@dataclass(frozen=True)
class Head:
    judge: str
    prompt: str
    kind: str
    size: int  # hidden-state dimensions it reads
    weights: tuple[float, ...]  # size + 1: the hidden state, then logit(P(YES))
    bias: float
    fitted_on: str
    n: int
    penalty: float
    cv_auroc: float  # outer-fold AUROC of the head
    cv_auroc_p_yes: float  # of P(YES) on the same rows (pairwise: of the unfitted rule)
    features: str = FEATURES
    # Pairwise only: P(candidate better) within this of 0.5 is a TIE (the judge cannot
    # tell), chosen on the labels it was fitted on.
    margin: float = 0.0
    source: str = ""  # the file it was read from (not written)

    @property
    def key(self) -> tuple[str, str, str]:
        return self.judge, self.prompt, self.kind

    def score(self, hidden_state: bytes | None, p_yes: float) -> float:
        """The head's probability that the output meets the criterion."""
        import numpy as np

        if hidden_state is None:
            raise HeadError(
                f"the {self.kind} head in {self.source} needs the judge's hidden state, and "
                "this reply has none; re-record the judgment (--llmjudge-record-mode=all) "
                "or set llmjudge_heads=off")
        state = np.frombuffer(hidden_state, dtype="<f2").astype(np.float64)
        if state.size != self.size:
            raise HeadError(
                f"the {self.kind} head in {self.source} reads {self.size} hidden dimensions, "
                f"and this judge's hidden state has {state.size}; fit it again for this "
                "judge (python -m pytest_llmjudge calibrate LABELS --llmjudge-fit-head "
                "--llmjudge-update-calibration) or set llmjudge_heads=off")
        w = np.asarray(self.weights)
        z = float(state @ w[:-1] + w[-1] * logit(p_yes) + self.bias)
        return sigmoid(z)

    def score_members(self, scores: Sequence[float]) -> float:
        """A panel head's probability from its members' scores (in the panel's order)."""
        if len(scores) != len(self.weights):
            raise HeadError(
                f"the {self.kind} panel head in {self.source} weighs {len(self.weights)} "
                f"members and this verdict has {len(scores)}; fit it again for this panel "
                "(python -m pytest_llmjudge calibrate LABELS --llmjudge-fit-head "
                "--llmjudge-update-calibration) or set llmjudge_panel_aggregate=mean")
        return sigmoid(self.bias + sum(w * logit(s) for w, s in zip(self.weights, scores,
                                                                     strict=True)))

    def score_pair(self, features: Sequence[float]) -> float:
        """A pairwise head's P(candidate better) from a comparison's signal features."""
        return sigmoid(sum(w * f for w, f in zip(self.weights, features, strict=True)))

    def describe(self) -> str:
        against = ("the unfitted rule" if self.kind == "pairwise" else "the members' mean"
                   if self.features == PANEL_FEATURES else "P(YES)")
        what = "panel head" if self.features == PANEL_FEATURES else "head"
        return (f"the fitted {self.kind} {what} in {self.source} ({self.n} labels from "
                f"{self.fitted_on}; cross-validated AUROC {self.cv_auroc:.3f} against "
                f"{self.cv_auroc_p_yes:.3f} for {against})")

    def to_json(self) -> dict[str, Any]:
        data = {"judge": self.judge, "prompt": self.prompt, "kind": self.kind,
                "features": self.features, "size": self.size,
                "weights": [float(f"{w:.6g}") for w in self.weights],
                "bias": float(f"{self.bias:.8g}"), "fitted_on": self.fitted_on, "n": self.n,
                "penalty": self.penalty, "cv_auroc": round(self.cv_auroc, 4),
                "cv_auroc_p_yes": round(self.cv_auroc_p_yes, 4)}
        if self.features == PAIRWISE_FEATURES:
            data["margin"] = round(self.margin, 4)
        return data


_SCALARS: dict[str, tuple[type, ...]] = {
    "judge": (str,), "prompt": (str,), "kind": (str,), "features": (str,), "size": (int,),
    "bias": (int, float), "fitted_on": (str,), "n": (int,), "penalty": (int, float),
    "cv_auroc": (int, float), "cv_auroc_p_yes": (int, float)}


def head_from_json(raw: object, where: str) -> Head:
    """One head from a calibration file; anything malformed raises HeadError."""
    def bad(why: str) -> HeadError:
        return HeadError(
            f"{where} {why}; fit it again with python -m pytest_llmjudge calibrate LABELS "
            "--llmjudge-fit-head --llmjudge-update-calibration, or set llmjudge_heads=off")

    # A pairwise head also has its tie margin.
    pairwise = isinstance(raw, dict) and raw.get("kind") == "pairwise"
    problem = field_problem(raw, _SCALARS, frozenset(
        {"weights", "margin"} if pairwise else {"weights"}))
    if problem is not None:
        raise bad(problem)
    assert isinstance(raw, dict)
    for name in _SCALARS:
        value = raw[name]
        if isinstance(value, float) and not math.isfinite(value):
            raise bad(f"has {name}={value!r}, not a finite number")
    panel = raw["features"] == PANEL_FEATURES and not pairwise
    wanted = PAIRWISE_FEATURES if pairwise else PANEL_FEATURES if panel else FEATURES
    if raw["features"] != wanted:
        raise bad(f"reads features {raw['features']!r}; this version reads {wanted!r} "
                  f"for a {raw['kind']} head")
    weights = raw["weights"]
    if not isinstance(weights, list) or not all(
            isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w)
            for w in weights):
        raise bad("has weights that are not a list of finite numbers")
    margin = 0.0
    if pairwise:
        given = raw.get("margin")
        if (not isinstance(given, (int, float)) or isinstance(given, bool)
                or not 0.0 <= given < 0.5):
            raise bad(f"has margin={given!r}; a pairwise head needs a number in [0, 0.5)")
        margin = float(given)
        if len(weights) != PAIRWISE_WEIGHTS or raw["size"] != 0 or raw["bias"] != 0:
            raise bad(f"has {len(weights)} weights, size {raw['size']} and bias "
                      f"{raw['bias']}; a pairwise head has {PAIRWISE_WEIGHTS} weights, size 0 "
                      "and bias 0")
    elif panel:
        if len(weights) < 2 or raw["size"] != 0:
            raise bad(f"has {len(weights)} weights and size {raw['size']}; a panel head has "
                      "one weight per member (at least 2) and size 0")
    elif raw["size"] < 1 or len(weights) != raw["size"] + 1:
        raise bad(f"has {len(weights)} weights for size {raw['size']} (needs size + 1)")
    if raw["n"] < 2 * MIN_PER_CLASS:
        raise bad(f"was fitted on n={raw['n']} labels")
    return Head(**{**raw, "weights": tuple(float(w) for w in weights),
                   "bias": float(raw["bias"]), "penalty": float(raw["penalty"]),
                   "margin": margin, "source": where.split(": ")[0]})


# -- arithmetic ----------------------------------------------------------------------
def logit(p: float) -> float:
    p = min(max(p, CLIP), 1.0 - CLIP)
    return math.log(p / (1.0 - p))


def sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def design(states: Sequence[bytes], p_yes: Sequence[float]) -> NDArray[np.float64]:
    """One row per example: its hidden state, then logit(P(YES))."""
    import numpy as np

    rows = [np.frombuffer(s, dtype="<f2").astype(np.float64) for s in states]
    sizes = {r.size for r in rows}
    if len(sizes) != 1:
        raise HeadError(f"the hidden states differ in size ({sorted(sizes)}): one judge only")
    return np.column_stack([np.vstack(rows), [logit(p) for p in p_yes]])


@dataclass(frozen=True)
class Linear:
    weights: NDArray[np.float64]
    bias: float

    def predict(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        import numpy as np

        z = np.clip(x @ self.weights + self.bias, -50.0, 50.0)
        return np.asarray(1.0 / (1.0 + np.exp(-z)))


def fit_logistic(x: NDArray[np.float64], y: NDArray[np.float64], penalty: float,
                 sample_weight: NDArray[np.float64] | None = None) -> Linear:
    """L2-regularised logistic regression on standardised columns, returned in the raw
    columns' units. The last column (logit P(YES)) and the intercept are not penalised:
    a strong penalty shrinks the head towards a rescaled P(YES), never below it, so
    the hidden state only adds what the labels support."""
    import numpy as np

    n = len(y)
    sw = np.ones(n) if sample_weight is None else sample_weight * n / sample_weight.sum()
    mean = x.mean(axis=0)
    spread = x.std(axis=0)
    spread[spread < 1e-9] = 1.0
    z = (x - mean) / spread
    # The hidden part's weights lie in the row space of its columns: solve there (rank
    # <= n), so 1,536 dimensions cost an n-by-n solve.
    u, s, vt = np.linalg.svd(z[:, :-1], full_matrices=False)
    keep = s > s[0] * 1e-10 if s.size else s > 0
    f = np.column_stack([u[:, keep] * s[keep], z[:, -1], np.ones(n)])
    r = f.shape[1]
    ridge = np.full(r, penalty)
    ridge[-2:] = 0.0  # logit P(YES) and the intercept
    beta = np.zeros(r)
    rate = float(np.clip(np.average(y, weights=sw), 1e-3, 1 - 1e-3))
    beta[-1] = math.log(rate / (1 - rate))
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(f @ beta, -50.0, 50.0)))
        w = sw * p * (1 - p) + 1e-9
        grad = f.T @ (sw * (p - y)) + ridge * beta
        hess = (f.T * w) @ f + np.diag(ridge) + 1e-9 * np.eye(r)
        step = np.linalg.solve(hess, grad)
        beta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    weights_z = np.concatenate([vt[keep].T @ beta[:-2], [beta[-2]]])
    weights = weights_z / spread
    return Linear(weights, float(beta[-1]) - float(weights @ mean))


def folds(y: NDArray[np.float64], k: int, seed: int) -> list[NDArray[np.int64]]:
    """Stratified folds: each class shuffled (seeded) and dealt round-robin."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out: list[list[int]] = [[] for _ in range(k)]
    for label in (0.0, 1.0):
        members = np.flatnonzero(y == label)
        rng.shuffle(members)
        for i, index in enumerate(members):
            out[i % k].append(int(index))
    return [np.asarray(sorted(f), dtype=np.int64) for f in out]


def out_of_fold(x: NDArray[np.float64], y: NDArray[np.float64], penalty: float | None,
                seed: int, k: int = FOLDS) -> NDArray[np.float64]:
    """Each row scored by a head fitted without its fold. ``penalty`` None: chosen
    inside each training fold by its own cross-validation (nested)."""
    import numpy as np

    scores = np.empty(len(y))
    for held in folds(y, k, seed):
        train = np.setdiff1d(np.arange(len(y)), held)
        chosen = penalty if penalty is not None else choose_penalty(x[train], y[train], seed)
        scores[held] = fit_logistic(x[train], y[train], chosen).predict(x[held])
    return scores


def choose_penalty(x: NDArray[np.float64], y: NDArray[np.float64], seed: int) -> float:
    """The penalty whose cross-validated log-loss is lowest (ties: the stronger one)."""
    import numpy as np

    best, best_loss = PENALTIES[-1], math.inf
    for penalty in reversed(PENALTIES):
        p = np.clip(out_of_fold(x, y, penalty, seed + 1), CLIP, 1 - CLIP)
        loss = float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
        if loss < best_loss - 1e-9:
            best, best_loss = penalty, loss
    return best


def enough_labels(kind: str, positives: int, negatives: int) -> str | None:
    """Why these labels are too few to fit a head, or None."""
    if positives >= MIN_PER_CLASS and negatives >= MIN_PER_CLASS:
        return None
    return (f"--llmjudge-fit-head needs at least {MIN_PER_CLASS} {kind} examples labelled 1 "
            f"and {MIN_PER_CLASS} labelled 0 ({FOLDS}-fold cross-validation inside "
            f"{FOLDS}-fold cross-validation); the labels have {positives} and {negatives}: "
            f"label {max(0, MIN_PER_CLASS - positives)} more positive and "
            f"{max(0, MIN_PER_CLASS - negatives)} more negative")
