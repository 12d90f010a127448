"""A calibration run: the configured judge on labelled examples, measured and fitted.

Each example is judged the way its assertion would judge it (one whole-output request:
claims are not split), with the threshold the run would use. Examples are grouped by
kind (and Likert scale); per group the report gives AUROC, accuracy, balanced
accuracy, Cohen's kappa, TPR, TNR and ECE with bootstrap intervals, the confusion
matrix at the threshold in effect, and the threshold that fits these labels best.
Likert groups also get a table per label level that shows how the judge's ratings
crowd towards the middle of the scale.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..config.settings import Settings
from ..config.thresholds import Threshold
from ..judging import requests
from ..judging.judge import Judge
from ..judging.verdict import JudgeRequest, Verdict
from .labels import FEW, Example
from .metrics import (
    Confusion,
    Estimate,
    UndefinedMetric,
    auroc,
    bootstrap,
    confusion,
    ece,
    fit_isotonic,
    fit_platt,
    fit_threshold,
)


def request_for(example: Example, settings: Settings) -> JudgeRequest:
    """The request its assertion would make, built by the same code (judging/requests.py),
    at the threshold the run would use where a test gives none."""
    threshold = Threshold(settings.threshold, settings.sources.get("threshold", "default"))
    policy = settings.policy
    kind = example.kind
    if example.transcript is not None:
        if kind == "trajectory":
            return requests.trajectory(example.transcript, example.criteria,
                                       example.reference_path, threshold, policy)
        return requests.conversation(
            example.transcript, example.criteria, threshold, policy,
            task="conversation_checklist" if kind == "checklist" else "conversation",
            scale=example.scale)
    if kind == "grounded":
        return requests.grounded(example.output, example.context or "", example.question,
                                 threshold, policy)
    if kind == "correct":
        return requests.correct(example.output, example.question or "", example.reference,
                                threshold, policy)
    if kind == "checklist":
        return requests.checklist_item(example.output, example.criteria,
                                       example.instruction, threshold, policy)
    if kind == "pairwise":
        return requests.pairwise(example.output, example.criteria, example.instruction,
                                 threshold, policy)
    return requests.judged(example.output, example.criteria, threshold, policy,
                           example.scale)


def judge_example(judge: Judge, example: Example, *, every_signal: bool = False) -> Verdict:
    """``every_signal``: a comparison asks all four signals even where a head would
    skip some (fitting a pairwise head reads them all)."""
    request = request_for(example, judge.settings)
    if example.kind == "pairwise":
        from ..judging.pairwise import compare

        return compare(judge, request, example.other_output or "", ("BETTER",),
                       every_signal=every_signal)
    return judge.evaluate(request)


@dataclass
class GroupReport:
    kind: str
    scale: int | None
    judge_id: str
    prompt_version: str
    threshold: float  # in effect for this run
    threshold_source: str
    n: int
    positives: int
    scores: list[float]
    labels: list[int]  # 0/1
    ratings: list[int] = field(default_factory=list)  # the Likert labels
    metrics: dict[str, Estimate] = field(default_factory=dict)
    undefined: dict[str, str] = field(default_factory=dict)  # metric -> why
    matrix: Confusion | None = None
    fitted: float | None = None
    fitted_matrix: Confusion | None = None
    rescale: str = "none"
    ece_rescaled: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def agreement(self) -> float:
        """Share of labels the judge agrees with, at the threshold in effect."""
        assert self.matrix is not None
        return self.matrix.accuracy


def measure(verdicts: Sequence[Verdict], examples: Sequence[Example], *,
            target_tpr: float | None = None, target_tnr: float | None = None,
            rescale: str = "none", seed: int = 0) -> list[GroupReport]:
    groups: dict[tuple[str, int | None], list[int]] = {}
    for index, example in enumerate(examples):
        groups.setdefault((example.kind, example.scale), []).append(index)
    reports = []
    for (kind, scale), members in groups.items():
        first = verdicts[members[0]]
        report = GroupReport(
            kind, scale, first.judge_id, first.prompt_version, first.threshold,
            first.threshold_source or "default", len(members),
            sum(examples[i].positive for i in members),
            [verdicts[i].score for i in members], [examples[i].positive for i in members],
            [examples[i].label for i in members] if scale else [])
        _fill(report, target_tpr, target_tnr, rescale, seed)
        reports.append(report)
    return reports


def _fill(report: GroupReport, target_tpr: float | None, target_tnr: float | None,
          rescale: str, seed: int) -> None:
    scores, labels, t = report.scores, report.labels, report.threshold
    if report.n < FEW:
        report.warnings.append(
            f"only {report.n} {report.kind} example(s): every interval below is wide; "
            f"label at least {FEW}, and a few dozen to trust a fitted threshold")
    single = report.positives in (0, report.n)
    at: dict[str, Callable[[Sequence[float], Sequence[int]], float]] = {
        "accuracy": lambda s, y: confusion(s, y, t).accuracy,
        "balanced_accuracy": lambda s, y: _defined(confusion(s, y, t).balanced_accuracy),
        "kappa": lambda s, y: confusion(s, y, t).kappa,
        "tpr": lambda s, y: _defined(confusion(s, y, t).tpr),
        "tnr": lambda s, y: _defined(confusion(s, y, t).tnr),
        "ece": ece,
        "auroc": auroc,
    }
    for name, metric in at.items():
        try:
            report.metrics[name] = bootstrap(metric, scores, labels, seed=seed)
        except UndefinedMetric as err:
            report.undefined[name] = str(err)
    report.matrix = confusion(scores, labels, t)
    if single:
        report.warnings.append(
            f"every {report.kind} label is {labels[0]}: AUROC, balanced accuracy and one "
            "of TPR/TNR are undefined, and no threshold can be fitted; label examples of "
            "both kinds")
        return
    try:
        report.fitted = fit_threshold(scores, labels, target_tpr=target_tpr,
                                      target_tnr=target_tnr)
    except ValueError as err:
        report.warnings.append(f"no threshold fitted: {err}")
        return
    report.fitted_matrix = confusion(scores, labels, report.fitted)
    report.rescale = rescale
    if rescale == "platt":
        platt = fit_platt(scores, labels)
        report.ece_rescaled = ece([platt(s) for s in scores], labels)
    elif rescale == "isotonic":
        iso = fit_isotonic(scores, labels)
        report.ece_rescaled = ece([iso(s) for s in scores], labels)


def _defined(value: float) -> float:
    if math.isnan(value):
        raise UndefinedMetric("one class is missing from the labels")
    return value


NAMES = {"auroc": "AUROC", "accuracy": "accuracy", "balanced_accuracy": "balanced accuracy",
         "kappa": "Cohen's kappa", "tpr": "TPR (recall on label 1)",
         "tnr": "TNR (recall on label 0)", "ece": "ECE"}


def report_lines(reports: Sequence[GroupReport], labels_path: str) -> list[str]:
    lines = [f"calibration on {labels_path} (95% bootstrap intervals)"]
    for r in reports:
        scale = f", ratings 1-{r.scale}" if r.scale else ""
        lines.append(f"{r.kind}{scale}: {r.n} examples, {r.positives} labelled 1; judge "
                     f"{r.judge_id}, prompt {r.prompt_version}")
        lines.append(f"  threshold in effect {r.threshold:g} ({r.threshold_source})")
        for name, label in NAMES.items():
            if name in r.metrics:
                lines.append(f"  {label:26} {r.metrics[name].text()}")
            elif name in r.undefined:
                lines.append(f"  {label:26} undefined: {r.undefined[name]}")
        if r.matrix is not None:
            m = r.matrix
            lines.append(f"  confusion at {r.threshold:g}: label 1 -> judged 1: {m.tp}, "
                         f"judged 0: {m.fn}; label 0 -> judged 1: {m.fp}, judged 0: {m.tn}")
        if r.fitted is not None and r.fitted_matrix is not None:
            f = r.fitted_matrix
            lines.append(f"  fitted threshold {r.fitted:.4f}: accuracy {f.accuracy:.3f}, "
                         f"balanced accuracy {f.balanced_accuracy:.3f}, TPR {f.tpr:.3f}, "
                         f"TNR {f.tnr:.3f} (on these same labels: optimistic)")
        if r.ece_rescaled is not None:
            lines.append(f"  ECE after {r.rescale} rescaling: {r.ece_rescaled:.3f} "
                         "(on these same labels)")
        if r.scale:
            lines += likert_table(r)
        lines += [f"  warning: {w}" for w in r.warnings]
    return lines


def likert_table(report: GroupReport) -> list[str]:
    """Per label level: how many, the judge's mean rating, and the share it put at each
    end of the scale. Central tendency shows as mean ratings pulled to the middle."""
    assert report.scale is not None
    top = report.scale
    lines = ["  label  n   judge's mean rating  rated 1  rated top"]
    for level in range(1, top + 1):
        rated = [1 + s * (top - 1) for s, y in zip(report.scores, report.ratings, strict=True)
                 if y == level]
        if not rated:
            continue
        low = sum(1 for r in rated if round(r) == 1) / len(rated)
        high = sum(1 for r in rated if round(r) == top) / len(rated)
        lines.append(f"  {level:5}  {len(rated):<3} {sum(rated) / len(rated):19.2f}"
                     f"  {low:7.0%}  {high:9.0%}")
    return lines

