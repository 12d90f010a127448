"""The drift check's figures against hand-computed values, and the recorded request
read back exactly as it was asked."""

from __future__ import annotations

import json

import pytest

from pytest_llmjudge.backends.base import Completion
from pytest_llmjudge.calibration.drift import (
    Readable,
    Recorded,
    Rejudged,
    compare,
    moved_toward,
    report_lines,
)
from pytest_llmjudge.judging.asked import (
    AskedError,
    asked_json,
    parse_asked,
    recorded_score,
)
from pytest_llmjudge.judging.policy import Policy
from pytest_llmjudge.judging.verdict import JudgeRequest

REQUEST = JudgeRequest(output="It opens at 9.", criterion="It says when", threshold=0.5,
                       task="grounded", inputs=(("context", "Opens at 9."),
                                                ("question_text", None)),
                       policy=Policy(strategy="logprob", reasons="none"))


def recorded(test: str, score: float, threshold: float = 0.5) -> Recorded:
    asked = parse_asked(json.loads(asked_json(
        JudgeRequest(output=f"output of {test}", criterion="c", threshold=threshold),
        "direct", True)))
    return Recorded(test, asked, "old:judge", "p.v1", score, 1)


def test_a_request_reads_back_as_it_was_asked() -> None:
    asked = parse_asked(json.loads(asked_json(REQUEST, "direct", True)))
    assert asked.request == REQUEST
    assert (asked.mode, asked.by_probability, asked.explains) == ("direct", True, False)
    assert parse_asked(json.loads(asked_json(REQUEST, "direct", False, explains=True))).explains


@pytest.mark.parametrize("change, why", [
    ({"mode": "fast"}, '"mode" \'fast\' is not one of direct, logprob, cot, json'),
    ({"threshold": 1.5}, '"threshold" 1.5 is not a number in 0..1'),
    ({"output": ""}, '"output" is not a non-empty string'),
    ({"inputs": [["context"]]}, '"inputs" is not a list of [name, text] pairs'),
    ({"policy": {"polls": 0}}, "polls"),
    ({"scored": "votes"}, '"scored" is not "probability" or "answer"'),
])
def test_an_edited_request_says_what_is_wrong(change: dict[str, object], why: str) -> None:
    data = {**json.loads(asked_json(REQUEST, "direct", True)), **change}
    with pytest.raises(AskedError, match="^" + why.replace("[", r"\[").replace("(", r"\(")
                       if why != "polls" else "polls"):
        parse_asked(data)


def test_recorded_scores_are_read_as_the_judge_read_them() -> None:
    by_probability = parse_asked(json.loads(asked_json(REQUEST, "direct", True)))
    by_answer = parse_asked(json.loads(asked_json(REQUEST, "direct", False)))
    reply = Completion('{"answer": "NO"}', {"answer": {"YES": 0.3, "NO": 0.7}}, 10, 1)
    assert recorded_score(by_probability, reply) == pytest.approx(0.3)
    assert recorded_score(by_answer, reply) == 0.0
    # No probabilities recorded: the answer stands in.
    assert recorded_score(by_probability, Completion('{"answer": "YES"}', {}, 10, 1)) == 1.0
    # A malformed attempt (one a retry replaced) is no vote.
    assert recorded_score(by_probability, Completion("YES!", {}, 10, 1)) is None


def test_agreement_kappa_and_shift_match_hand_computed_values() -> None:
    # Old outcomes P P F F; new P F F F: 3 of 4 agree. As a 2x2 table, new against
    # old: tp 1, fn 1, tn 2, fp 0. Chance agreement ((1)(2) + (3)(2)) / 16 = 0.5, so
    # kappa = (0.75 - 0.5) / (1 - 0.5) = 0.5. Shifts: -0.1, -0.6, 0, +0.2 -> -0.125.
    old = [recorded("a", 0.9), recorded("b", 0.8), recorded("c", 0.2), recorded("d", 0.1)]
    new = [0.8, 0.2, 0.2, 0.3]
    rejudged = [Rejudged(r, s, "new:judge", "p.v2") for r, s in zip(old, new, strict=True)]
    report = compare("j.jsonl", Readable(old), rejudged)
    assert report.agreement.value == 0.75
    # Wilson 95% interval of 3/4: centre (0.75 + 1.9208/4) / (1 + 3.8415/4).
    assert (report.agreement.low, report.agreement.high) == pytest.approx((0.3006, 0.9544),
                                                                          abs=1e-4)
    assert report.kappa is not None and report.kappa.value == pytest.approx(0.5)
    assert report.mean_shift == pytest.approx(-0.125)
    assert [r.recorded.test for r in report.flips] == ["b"]
    # d moved from 0.4 below its threshold to 0.2 below: closer by 0.2, not flipped.
    assert [r.recorded.test for r in report.toward] == ["d"]
    assert not report.same_judge
    lines = report_lines(report)
    assert lines[1:3] == [
        f"agreement 0.750 [0.301, 0.954], Cohen's kappa {report.kappa.text()}",
        "flips: 1 (1 PASS->FAIL, 0 FAIL->PASS); mean score shift -0.125"]


def test_kappa_is_undefined_when_both_judges_give_one_outcome() -> None:
    old = [recorded("a", 0.9), recorded("b", 0.8)]
    rejudged = [Rejudged(r, 0.7, "old:judge", "p.v1") for r in old]
    report = compare("j.jsonl", Readable(old), rejudged)
    assert report.kappa is None and report.same_judge
    assert "Cohen's kappa undefined (one outcome only)" in report_lines(report)[2]


def test_moved_toward_lists_only_single_judgments_still_on_their_side() -> None:
    readable = Readable([recorded("t::near", 0.9), recorded("t::flipped", 0.9),
                         recorded("t::twice", 0.9), recorded("t::twice", 0.8),
                         recorded("t::little", 0.9)])

    def verdict(score: float) -> dict[str, object]:
        return {"criterion": "c", "threshold": 0.5, "score": score,
                "votes": [{"p_yes": score}], "parts": []}

    now = [("t::near", verdict(0.55)), ("t::flipped", verdict(0.4)),
           ("t::twice", verdict(0.55)), ("t::little", verdict(0.85))]
    assert moved_toward(readable, now) == [
        "  0.900 -> 0.550 (threshold 0.5)  t::near  'c'"]
