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
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

from ..errors import JudgeConfigError, JudgeError
from . import composite
from .judge import Judge
from .roles import Member
from .verdict import JudgeRequest, Verdict


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
        if len(verdicts) < self.quorum:
            raise JudgeError(
                f"panel member(s) could not judge, and llmjudge_panel_quorum={self.quorum} "
                f"needs {self.quorum} of {len(self.members)}: " + "; ".join(failed))
        return combine(request, verdicts, names, failed, self.aggregate,
                       time.perf_counter() - started)


def combine(request: JudgeRequest, verdicts: Sequence[Verdict], names: Sequence[str],
            failed: Sequence[str], aggregate: str, latency_s: float) -> Verdict:
    """The panel's verdict from its members' verdicts."""
    if aggregate == "majority":
        score = sum(v.passed and not v.unstable for v in verdicts) / len(verdicts)
    else:
        score = sum(v.score for v in verdicts) / len(verdicts)
    passed = score >= request.threshold
    agree = sum((v.passed and not v.unstable) == passed for v in verdicts)
    scores = ", ".join(f"{name} {v.score:.3f}" for name, v in zip(names, verdicts,
                                                                   strict=True))
    notes = [f"panel ({aggregate} of {len(verdicts)} members): {scores}; {agree} of "
             f"{len(verdicts)} agree with the verdict"]
    notes += [f"member missing, allowed by llmjudge_panel_quorum: {f}" for f in failed]
    # As a checklist is: UNSTABLE when it fails, and the unsettled members could pass it.
    unstable = not passed and any(v.unstable for v in verdicts)
    parts = [replace(v, criterion=name) for v, name in zip(verdicts, names, strict=True)]
    verdict = composite.build(parts, "member", (1.0,) * len(parts), notes, score,
                              request.threshold, passed, unstable, request.criterion,
                              request.output, latency_s, composite.NO_EXTRA)
    return replace(verdict, judge_id="panel: " + " + ".join(v.judge_id for v in verdicts))
