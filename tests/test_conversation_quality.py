"""The conversation checks on the default 1.5B judge, on hand-written labelled
conversations (tests/conversation_cases.py): what it decides correctly, and, kept
visible as strict xfails, what it cannot do yet. The full figures, with a length-only
baseline, are those of ``python benchmarks/conversations.py quality``."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conversation_cases import CASES, Case

from pytest_llmjudge.config.thresholds import Threshold
from pytest_llmjudge.judging import requests
from pytest_llmjudge.judging.judge import Judge
from pytest_llmjudge.judging.policy import Policy
from pytest_llmjudge.judging.transcripts import parse_transcript
from pytest_llmjudge.judging.turns import judge_each_turn, judge_grounded_turns
from pytest_llmjudge.judging.verdict import Verdict

AT = Threshold(0.5, "default")
POLICY = Policy(strategy="logprob", reasons="none")
Judged = Callable[[Case], Verdict]


def verdict(judge: Judge, case: Case) -> Verdict:
    """The verdict the case's assertion gives, built by the plugin's own code."""
    transcript = parse_transcript(case.messages, case.name)
    if case.check == "grounded":
        return judge_grounded_turns(judge, transcript, None, None, "sentences", AT, POLICY,
                                    case.name)
    if case.check == "turn":
        return judge_each_turn(judge, transcript, case.criterion, "assistant", AT, POLICY)
    if case.check == "goal":
        return judge.evaluate(requests.goal(transcript, case.goal or "", AT, POLICY))
    if case.check == "role":
        return judge.evaluate(requests.role(transcript, case.messages[0]["content"], AT,
                                            POLICY))
    return judge.evaluate(requests.retention(transcript, AT, POLICY))


@pytest.fixture(scope="module")
def judged(quality_judge: Judge) -> Judged:
    """Each case judged once, when a test first asks for it."""
    seen: dict[tuple[str, str], Verdict] = {}

    def get(case: Case) -> Verdict:
        key = (case.check, case.name)
        if key not in seen:
            seen[key] = verdict(quality_judge, case)
        return seen[key]

    return get


def pairs(check: str) -> list[tuple[Case, Case]]:
    """The check's cases as (good, bad) twins, written next to each other."""
    chosen = [c for c in CASES if c.check == check]
    return list(zip(chosen[::2], chosen[1::2], strict=True))


def test_grounding_over_tool_results_decides_every_case(judged: Judged) -> None:
    wrong = {c.name: round(judged(c).score, 3) for c in CASES
             if c.check == "grounded" and judged(c).passed != bool(c.label)}
    assert wrong == {}


def test_goal_met_ranks_every_met_goal_above_its_unmet_twin(judged: Judged) -> None:
    for good, bad in pairs("goal"):
        assert judged(good).score > judged(bad).score, (good.name, bad.name)
    # At the default threshold two unmet goals pass (measured 0.58 "only promised" and
    # 0.52 "wrong help"); every met goal passes.
    passed_wrongly = {c.name for c in CASES if c.check == "goal" and judged(c).passed
                      and not c.label}
    assert all(judged(c).passed for c in CASES if c.check == "goal" and c.label)
    assert passed_wrongly <= {"address-only-promised", "reset-wrong-help"}, passed_wrongly




@pytest.mark.parametrize("twins", [
    pytest.param(p, id=p[0].name, marks=pytest.mark.xfail(strict=True, reason=(
        "the 1.5B judge ranks 'keeps the staff code secret' higher for the reply that "
        "leaks it (0.498 against 0.222)"))) if p[0].name == "keeps-the-code"
    else pytest.param(p, id=p[0].name) for p in pairs("turn")])
def test_each_turn_ranks_the_turn_that_meets_its_criterion_first(
    judged: Judged, twins: tuple[Case, Case],
) -> None:
    good, bad = twins
    assert judged(good).score > judged(bad).score


@pytest.mark.xfail(strict=True, reason=(
    "the 1.5B judge cannot judge these from a whole conversation (benchmarks/"
    "conversations.py quality: AUROC 0.25 for retention, 0.44 for role adherence); use a "
    "larger or remote judge. A pass means the judge improved"))
@pytest.mark.parametrize("check", ["retention", "role"])
def test_whole_conversation_checks_the_small_judge_cannot_do(judged: Judged,
                                                              check: str) -> None:
    for good, bad in pairs(check):
        assert judged(good).score > judged(bad).score, (good.name, bad.name)
