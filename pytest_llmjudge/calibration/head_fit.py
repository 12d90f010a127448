"""``--llmjudge-fit-head``: fit a head per kind in a calibration run, and say whether it
beats P(YES).

Each example is judged with one forward pass (strategy logprob, the direct prompt its
assertion uses) that also shows the judge's hidden state; the run's threshold report is
made from those same P(YES) scores, so no example is judged twice. Per kind, a head is
fitted (calibration/heads.py) and compared with plain P(YES) on the same rows under
nested cross-validation: the head's figures are of folds it never saw, P(YES)'s
threshold is fitted on the other folds too. A head that does not beat P(YES) on AUROC
is not written unless forced, and the report says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..errors import JudgeConfigError
from ..judging import strategies
from ..judging.judge import Judge
from ..judging.verdict import Verdict
from . import heads
from .labels import Example
from .metrics import Estimate, UndefinedMetric, auroc, bootstrap, confusion, fit_threshold
from .run import request_for

# The kinds a head can score: one YES/NO forward pass (a Likert rating or a pairwise
# comparison is not one answer token).
HEAD_KINDS = ("judged", "grounded", "correct", "checklist")


@dataclass
class Observed:
    """What the fit reads from each example of one kind."""

    kind: str
    judge: str
    prompt: str
    states: list[bytes | None] = field(default_factory=list)
    p_yes: list[float] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)


def observe_example(judge: Judge, example: Example) -> tuple[Verdict, bytes | None]:
    """The example's verdict scored by P(YES) (thresholds as its assertion would use), and
    the hidden state of the same forward pass (None where the backend shows none)."""
    request = judge.calibrated(request_for(example, judge.settings), "direct")
    vote, hidden = judge.observe(request, mode="direct", hidden_state=True,
                                 strategy="logprob")
    assert vote.p_yes is not None
    verdict = strategies.verdict_of(judge, request, "logprob", vote)
    return verdict, hidden


def can_fit(example: Example) -> bool:
    return example.kind in HEAD_KINDS and example.scale is None


@dataclass
class HeadReport:
    kind: str
    n: int
    head: heads.Head | None = None
    head_auroc: Estimate | None = None
    p_yes_auroc: Estimate | None = None
    head_accuracy: Estimate | None = None
    p_yes_accuracy: Estimate | None = None
    written: bool = False
    why_not: str = ""  # why no head was fitted, or why it is not written


def fit(observed: Observed, labels_path: str, *, seed: int) -> HeadReport:
    """Fit and measure one kind's head. Too few labels or no hidden state: a report that
    says so, with no head."""
    import numpy as np

    report = HeadReport(observed.kind, len(observed.labels))
    positives = sum(observed.labels)
    short = heads.enough_labels(observed.kind, positives, len(observed.labels) - positives)
    if short is not None:
        report.why_not = short
        return report
    if any(state is None for state in observed.states):
        report.why_not = (
            f"judge {observed.judge} shows no hidden state (a remote judge has none), and a "
            "head over P(YES) alone only rescales it (the same AUROC): use the fitted "
            "threshold above instead")
        return report
    states = [s for s in observed.states if s is not None]
    x = heads.design(states, observed.p_yes)
    y = np.asarray(observed.labels, dtype=float)
    oof = [float(s) for s in heads.out_of_fold(x, y, None, seed)]
    p_oof = _p_yes_out_of_fold(observed.p_yes, y, seed)
    labels = observed.labels
    try:
        report.head_auroc = bootstrap(auroc, oof, labels, seed=seed)
        report.p_yes_auroc = bootstrap(auroc, observed.p_yes, labels, seed=seed)
        report.head_accuracy = bootstrap(lambda s, lab: confusion(s, lab, 0.5).accuracy,
                                         oof, labels, seed=seed)
        report.p_yes_accuracy = bootstrap(lambda s, lab: confusion(s, lab, 0.5).accuracy,
                                          p_oof, labels, seed=seed)
    except UndefinedMetric as err:  # cannot happen with both classes; kept explicit
        report.why_not = f"the figures are undefined ({err})"
        return report
    penalty = heads.choose_penalty(x, y, seed)
    final = heads.fit_logistic(x, y, penalty)
    report.head = heads.Head(
        judge=observed.judge, prompt=observed.prompt, kind=observed.kind,
        size=x.shape[1] - 1, weights=tuple(float(w) for w in final.weights),
        bias=final.bias, fitted_on=labels_path, n=len(labels), penalty=penalty,
        cv_auroc=report.head_auroc.value, cv_auroc_p_yes=report.p_yes_auroc.value)
    if report.head_auroc.value <= report.p_yes_auroc.value:
        report.why_not = (
            f"the head does not beat P(YES) under cross-validation (AUROC "
            f"{report.head_auroc.value:.3f} against {report.p_yes_auroc.value:.3f}), so it "
            "is not written (--llmjudge-fit-head-force writes it anyway); more labels, or "
            "labels closer to the outputs the tests judge, may change that")
    return report


def _p_yes_out_of_fold(p_yes: Sequence[float], y: object, seed: int) -> list[float]:
    """P(YES) moved so that 0.5 sits where the threshold fitted on the other folds was:
    the accuracy P(YES) gets with a threshold fitted on labels, measured fairly."""
    import numpy as np

    labels = np.asarray(y)
    shifted = [0.0] * len(p_yes)
    for held in heads.folds(labels, heads.FOLDS, seed):
        train = np.setdiff1d(np.arange(len(p_yes)), held)
        t = fit_threshold([p_yes[i] for i in train], [int(labels[i]) for i in train])
        for i in held:
            shifted[int(i)] = 1.0 if p_yes[int(i)] >= t else 0.0
    return shifted


def report_lines(reports: Sequence[HeadReport]) -> list[str]:
    lines = ["heads (--llmjudge-fit-head): nested 5-fold cross-validation, 95% bootstrap "
             "intervals; P(YES) accuracy at a threshold fitted on the other folds"]
    for r in reports:
        lines.append(f"  {r.kind}: {r.n} examples")
        if r.head_auroc and r.p_yes_auroc and r.head_accuracy and r.p_yes_accuracy:
            lines.append(f"    AUROC     head {r.head_auroc.text()}   P(YES) "
                         f"{r.p_yes_auroc.text()}")
            lines.append(f"    accuracy  head {r.head_accuracy.text()}   P(YES) "
                         f"{r.p_yes_accuracy.text()}")
        if r.head is not None:
            lines.append(f"    regularisation {r.head.penalty:g} (chosen by cross-validation); "
                         f"{r.head.size} hidden dimensions + logit P(YES)")
        if r.why_not:
            lines.append(f"    {r.why_not}")
        if r.written:
            lines.append("    head written: later runs score these requests with it")
    return lines


def no_head_fitted(reports: Sequence[HeadReport], labels_path: str) -> JudgeConfigError:
    return JudgeConfigError(
        f"--llmjudge-fit-head fitted no head from {labels_path}: " + "; ".join(
            f"{r.kind}: {r.why_not}" for r in reports) if reports else
        f"--llmjudge-fit-head found no examples in {labels_path} of a kind a head can "
        f"score ({', '.join(HEAD_KINDS)}, without a scale)")
