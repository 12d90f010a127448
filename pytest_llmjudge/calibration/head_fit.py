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
from ..judging.pairwise import Signals
from ..judging.verdict import Verdict
from . import heads, pairwise_fit
from .labels import Example
from .metrics import Estimate, UndefinedMetric, auroc, bootstrap, confusion, fit_threshold
from .run import request_for

# The kinds a head can score: one YES/NO forward pass (a Likert rating is not one
# answer token), or a comparison's signals (a pairwise head, calibration/pairwise_fit.py).
HEAD_KINDS = ("judged", "grounded", "correct", "checklist", "pairwise")


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
    """A one-pass head can be fitted on it (pairwise examples are observed from their
    comparison's verdict instead: observe_pair)."""
    return example.kind in HEAD_KINDS and example.kind != "pairwise" and example.scale is None


@dataclass
class ObservedPairs:
    """What a pairwise head's fit reads: each comparison's signals."""

    judge: str
    prompt: str
    signals: list[Signals | None] = field(default_factory=list)  # None: not logprob
    labels: list[int] = field(default_factory=list)
    kind: str = "pairwise"


def observe_pair(verdict: Verdict, observed: ObservedPairs | None,
                 label: int) -> ObservedPairs:
    """Add one comparison's signals (from its verdict's parts) to ``observed``."""
    parts = verdict.parts
    if observed is None:
        if len(parts) == 4:
            prompt = f"{parts[0].prompt_version}+{parts[2].prompt_version}"
        else:
            prompt = parts[0].prompt_version if parts else ""
        observed = ObservedPairs(verdict.judge_id, prompt)
    usable = len(parts) == 4 and all(p.strategy == "logprob" for p in parts)
    observed.signals.append(Signals(parts[0].score, 1.0 - parts[1].score, parts[2].score,
                                    parts[3].score) if usable else None)
    observed.labels.append(label)
    return observed


@dataclass
class ObservedPanel:
    """What a panel head's fit reads from each example of one kind: every member's
    score, in the panel's order."""

    kind: str
    judge: str
    prompt: str
    members: list[list[float]] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)


def observe_panel(verdict: Verdict, kind: str, observed: dict[str, ObservedPanel],
                  label: int) -> None:
    """Add one panel verdict's member scores (its parts) to ``observed[kind]``."""
    from ..judging.panel import panel_key

    judge, prompt = panel_key(verdict.parts)
    group = observed.setdefault(kind, ObservedPanel(kind, judge, prompt))
    group.members.append([part.score for part in verdict.parts])
    group.labels.append(label)


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
    against: str = "P(YES)"  # what the head is compared with
    panel: bool = False  # weighs a panel's members
    more: list[str] = field(default_factory=list)  # kind-specific figures


def _too_few(report: HeadReport, labels: Sequence[int]) -> bool:
    """Too few labels of either class to fit: the report says how many more."""
    positives = sum(labels)
    short = heads.enough_labels(report.kind, positives, len(labels) - positives)
    report.why_not = short or ""
    return short is not None


def _unless_better(report: HeadReport, what: str, advice: str) -> HeadReport:
    """The report, refusing to write its head unless it beat what it is compared with
    under cross-validation."""
    assert report.head_auroc is not None and report.p_yes_auroc is not None
    if report.head_auroc.value <= report.p_yes_auroc.value:
        report.why_not = (
            f"the {what} does not beat {report.against} under cross-validation (AUROC "
            f"{report.head_auroc.value:.3f} against {report.p_yes_auroc.value:.3f}), so it "
            f"is not written (--llmjudge-fit-head-force writes it anyway){advice}")
    return report


def fit_pairwise(observed: ObservedPairs, labels_path: str, *, seed: int) -> HeadReport:
    """Fit and measure a pairwise head: its weights by cross-validation against the
    unfitted rule (what scores comparisons without it), its tie margin out of fold."""
    import numpy as np

    report = HeadReport("pairwise", len(observed.labels), against="the unfitted rule")
    if _too_few(report, observed.labels):
        return report
    if any(s is None for s in observed.signals):
        report.why_not = (
            "a pairwise head combines logits, so every comparison must be judged with "
            "strategy logprob and llmjudge_pairwise=signals (both orders and each output "
            "alone); this run was not")
        return report
    signals = [s for s in observed.signals if s is not None]
    labels = observed.labels
    x = np.array([s.features() for s in signals])
    y = np.asarray(labels, dtype=float)
    oof = pairwise_fit.out_of_fold(x, y, seed)
    rule = [(s.orders + (s.alone or 0.5)) / 2 for s in signals]
    margin, reached = pairwise_fit.choose_margin(oof, labels)
    from ..judging.pairwise import DEFAULT_MARGIN, outcome

    try:
        report.head_auroc = bootstrap(auroc, oof, labels, seed=seed)
        report.p_yes_auroc = bootstrap(auroc, rule, labels, seed=seed)
    except UndefinedMetric as err:
        report.why_not = f"the figures are undefined ({err})"
        return report
    head_figures = pairwise_fit.decided(oof, labels, margin)
    report.more = [
        f"head at its tie margin {margin:.3f}: {head_figures.text()}"
        + ("" if reached else f" (no margin reached {pairwise_fit.DECIDED_ACCURACY:.2f} "
           f"decided within {pairwise_fit.MAX_TIES:.0%} ties)"),
        f"unfitted rule at margin {DEFAULT_MARGIN}: "
        f"{pairwise_fit.decided(rule, labels, DEFAULT_MARGIN).text()}",
        "orders only (both must agree): " + pairwise_fit.outcome_figures(
            [outcome(s.first, s.second) for s in signals], labels).text()]
    weights = pairwise_fit.fit_weights(x, y)
    report.head = heads.Head(
        judge=observed.judge, prompt=observed.prompt, kind="pairwise", size=0,
        weights=(float(weights[0]), float(weights[1])), bias=0.0, fitted_on=labels_path,
        n=len(labels), penalty=pairwise_fit.RIDGE, cv_auroc=report.head_auroc.value,
        cv_auroc_p_yes=report.p_yes_auroc.value, features=heads.PAIRWISE_FEATURES,
        margin=margin)
    return _unless_better(report, "pairwise head", "")


def fit_panel(observed: ObservedPanel, labels_path: str, *, seed: int) -> HeadReport:
    """Fit and measure a panel head: non-negative weights over the members' logit
    scores and a bias, against the mean the panel uses without it, out of fold."""
    import numpy as np

    report = HeadReport(observed.kind, len(observed.labels), against="the members' mean",
                        panel=True)
    if _too_few(report, observed.labels):
        return report
    labels = observed.labels
    x = np.array([[heads.logit(s) for s in row] for row in observed.members])
    y = np.asarray(labels, dtype=float)
    oof = pairwise_fit.out_of_fold(x, y, seed, intercept=True)
    mean = [sum(row) / len(row) for row in observed.members]
    accuracy = lambda s, lab: confusion(s, lab, 0.5).accuracy  # noqa: E731
    try:
        report.head_auroc = bootstrap(auroc, oof, labels, seed=seed)
        report.p_yes_auroc = bootstrap(auroc, mean, labels, seed=seed)
        report.head_accuracy = bootstrap(accuracy, oof, labels, seed=seed)
        report.p_yes_accuracy = bootstrap(accuracy, _p_yes_out_of_fold(mean, y, seed),
                                          labels, seed=seed)
    except UndefinedMetric as err:
        report.why_not = f"the figures are undefined ({err})"
        return report
    weights = pairwise_fit.fit_weights(x, y, intercept=True)
    report.head = heads.Head(
        judge=observed.judge, prompt=observed.prompt, kind=observed.kind, size=0,
        weights=tuple(float(w) for w in weights[:-1]), bias=float(weights[-1]),
        fitted_on=labels_path, n=len(labels), penalty=pairwise_fit.RIDGE,
        cv_auroc=report.head_auroc.value, cv_auroc_p_yes=report.p_yes_auroc.value,
        features=heads.PANEL_FEATURES)
    return _unless_better(report, "panel head", "; llmjudge_panel_aggregate=mean does "
                          "as well on these labels")


def fit(observed: Observed, labels_path: str, *, seed: int) -> HeadReport:
    """Fit and measure one kind's head. Too few labels or no hidden state: a report that
    says so, with no head."""
    import numpy as np

    report = HeadReport(observed.kind, len(observed.labels))
    if _too_few(report, observed.labels):
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
    return _unless_better(report, "head", "; more labels, or labels closer to the outputs "
                          "the tests judge, may change that")


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
        lines.append(f"  {r.kind}{' panel' if r.panel else ''}: {r.n} examples")
        if r.head_auroc and r.p_yes_auroc:
            lines.append(f"    AUROC     head {r.head_auroc.text()}   {r.against} "
                         f"{r.p_yes_auroc.text()}")
        if r.head_accuracy and r.p_yes_accuracy:
            lines.append(f"    accuracy  head {r.head_accuracy.text()}   {r.against} "
                         f"{r.p_yes_accuracy.text()}")
        lines += [f"    {line}" for line in r.more]
        if r.head is not None and r.panel:
            lines.append("    panel weights " + ", ".join(
                f"{w:.3g}" for w in r.head.weights) + f" on the members' logits (in "
                f"the panel's order), bias {r.head.bias:.3g}")
        elif r.head is not None and r.kind == "pairwise":
            lines.append(f"    weights {r.head.weights[0]:.3g} on the orders' logits, "
                         f"{r.head.weights[1]:.3g} on the alone scores' logits")
        elif r.head is not None:
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
