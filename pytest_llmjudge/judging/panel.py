"""Judge panels: several judges decide every request, and their scores are combined.

A member is a model, a role prompt on a model, or both (``llmjudge_panel``). Each
member is an ordinary ``Judge`` sharing the session's cache, budget and report, so a
member's calls replay, count and scale out like any judge's. The panel's verdict is
made of its members' verdicts (``part_kind`` "member"), so every report shows each
member's score and how many agreed.

A member that cannot judge (a load error, a timeout, a malformed reply) makes the
verdict an ERROR naming it. Never a verdict of the rest, unless
``llmjudge_panel_quorum`` allows fewer members, and then the verdict's notes say who
was missing.

``llmjudge_panel_aggregate = learned`` weighs the members by a panel head fitted on
labels (``calibrate LABELS --llmjudge-fit-head`` run with the panel configured): a
logistic regression over the members' logit scores, each weight kept non-negative.
It needs every member's score, so the quorum does not apply to it; with no head
fitted for this panel, prompt and kind the verdict is an ERROR that says how to fit one.
A request no head can score (a comparison's calls, a Likert rating) is combined by the
mean, and its notes say so.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..calibration.thresholds_file import KIND_OF_TASK
from ..errors import JudgeConfigError, JudgeError
from . import composite
from .judge import Judge
from .roles import Member
from .verdict import JudgeRequest, Verdict

if TYPE_CHECKING:
    from ..calibration.heads import Head


class PanelJudge(Judge):
    """A Judge whose ``evaluate`` asks every member and combines their verdicts. Calls
    that are not verdicts (a checklist or claims written by the judge) go to the first
    member, whose backend this judge carries."""

    panel = True

    def __init__(self, members: Sequence[tuple[Member, Judge]], aggregate: str,
                 quorum: int) -> None:
        first = members[0][1]
        super().__init__(first.backend, first.settings, first.replayer, first.calibration,
                         first.role)
        if not 1 <= quorum <= len(members):
            raise JudgeConfigError(
                f"llmjudge_panel_quorum={quorum} is outside 1..{len(members)} (the panel's "
                "members)")
        self.members = tuple(members)
        self.aggregate = aggregate
        self.quorum = quorum

    def evaluate(self, request: JudgeRequest) -> Verdict:
        return self.evaluate_as(request, self.aggregate)

    def evaluate_as(self, request: JudgeRequest, aggregate: str) -> Verdict:
        """The panel's verdict combined by ``aggregate`` (a calibration run fitting a
        panel head combines by the mean: the head it fits does not exist yet)."""
        started = time.perf_counter()
        verdicts: list[Verdict] = []
        names: list[str] = []
        failed: list[str] = []
        # In turn: members are often local models that share the CPU; a remote member
        # still spreads its own polls up to llmjudge_concurrency.
        for member, judge in self.members:
            try:
                verdicts.append(judge.evaluate(request))
                names.append(member.name)
            except JudgeError as err:
                failed.append(f"{member.name}: {type(err).__name__}: {err}")
        quorum = len(self.members) if aggregate == "learned" else self.quorum
        if len(verdicts) < quorum:
            why = ("llmjudge_panel_aggregate=learned weighs every member" if
                   aggregate == "learned" else f"llmjudge_panel_quorum={quorum} needs "
                   f"{quorum} of {len(self.members)}")
            raise JudgeError("panel member(s) could not judge, and " + why + ": "
                             + "; ".join(failed))
        head, note = None, ""
        if aggregate == "learned" and not scorable(request):
            # No head can score it (a comparison's calls, a rating): the mean, saying so,
            # rather than an ERROR the user could never fit away.
            aggregate, note = "mean", (f"learned weights do not apply to a {request.task} "
                                       f"request{' on a scale' if request.scale else ''}: "
                                       "the members' mean decides it")
        elif aggregate == "learned":
            head = self.panel_head(request, verdicts)
        verdict = combine(request, verdicts, names, failed, aggregate,
                          time.perf_counter() - started, head)
        return replace(verdict, notes=(*verdict.notes, note)) if note else verdict

    def panel_head(self, request: JudgeRequest, verdicts: Sequence[Verdict]) -> Head:
        """The panel head for these members' judges and prompts and this kind; none is
        an ERROR that says how to fit it (a learned panel never guesses weights)."""
        from ..calibration.heads import PANEL_FEATURES

        judge, prompt = panel_key(verdicts)
        kind = KIND_OF_TASK.get(request.task)
        fit = ("fit one: python -m pytest_llmjudge calibrate LABELS --llmjudge-fit-head "
               "--llmjudge-update-calibration with this panel configured, or set "
               "llmjudge_panel_aggregate=mean")
        assert kind is not None  # scorable(request)
        if self.calibration is None or self.settings.heads == "off":
            raise JudgeConfigError(
                "llmjudge_panel_aggregate=learned reads a panel head from the calibration "
                "file, and " + ("llmjudge_heads=off" if self.settings.heads == "off" else
                                "there is none") + "; " + fit)
        head, others = self.calibration.find_head(judge, prompt, kind, PANEL_FEATURES)
        if head is None:
            seen = "; ".join(f"{o.source} has one for {o.judge} with prompts {o.prompt}"
                             for o in others)
            raise JudgeConfigError(
                f"llmjudge_panel_aggregate=learned: no {kind} panel head in "
                f"{self.calibration.path or 'the calibration file'} for {judge} with "
                f"prompts {prompt}" + (f" ({seen})" if seen else "") + "; " + fit)
        return head


def scorable(request: JudgeRequest) -> bool:
    """A panel head can score it: a YES/NO request of a kind heads are fitted for."""
    return KIND_OF_TASK.get(request.task) is not None and request.scale is None


def panel_key(verdicts: Sequence[Verdict]) -> tuple[str, str]:
    """The judge and prompt a panel head is keyed by: every member's, in order (a role
    changes a member's prompt, so role panels on one model key apart)."""
    return ("panel: " + " + ".join(v.judge_id for v in verdicts),
            " | ".join(v.prompt_version for v in verdicts))


def combine(request: JudgeRequest, verdicts: Sequence[Verdict], names: Sequence[str],
            failed: Sequence[str], aggregate: str, latency_s: float,
            head: Head | None = None) -> Verdict:
    """The panel's verdict from its members' verdicts (``head``: the learned weights)."""
    if head is not None:
        score = head.score_members([v.score for v in verdicts])
        how = (f"learned weights ({', '.join(f'{w:.3g}' for w in head.weights)}, bias "
               f"{head.bias:.3g}) of {len(verdicts)} members, from {head.describe()}")
    elif aggregate == "majority":
        score = sum(v.passed and not v.unstable for v in verdicts) / len(verdicts)
        how = f"majority of {len(verdicts)} members"
    else:
        score = sum(v.score for v in verdicts) / len(verdicts)
        how = f"mean of {len(verdicts)} members"
    passed = score >= request.threshold
    agree = sum((v.passed and not v.unstable) == passed for v in verdicts)
    scores = ", ".join(f"{name} {v.score:.3f}" for name, v in zip(names, verdicts,
                                                                   strict=True))
    notes = [f"panel ({how}): {scores}; {agree} of {len(verdicts)} agree with the verdict"]
    notes += [f"member missing, allowed by llmjudge_panel_quorum: {f}" for f in failed]
    # As a checklist is: UNSTABLE when it fails, and the unsettled members could pass it.
    unstable = not passed and any(v.unstable for v in verdicts)
    parts = [replace(v, criterion=name) for v, name in zip(verdicts, names, strict=True)]
    verdict = composite.build(parts, "member", (1.0,) * len(parts), notes, score,
                              request.threshold, passed, unstable, request.criterion,
                              request.output, latency_s, composite.NO_EXTRA)
    return replace(verdict, judge_id=panel_key(verdicts)[0])
