"""Claim-level grounding and combined verdicts: the splitting rule, the combination
rules, and assert_grounded's claim plumbing around a keyword backend. The stub proves
plumbing only; tests/test_grounded_quality.py judges claims with the real 1.5B model."""

from __future__ import annotations

import ast

import pytest
from conftest import ASYNCIO_INI
from stub_backend import stub_conftest

from pytest_llmjudge.errors import JudgeConfigError
from pytest_llmjudge.judging import composite
from pytest_llmjudge.judging.claims import parse_claims_mode, split_sentences
from pytest_llmjudge.judging.verdict import Verdict


@pytest.mark.parametrize(("text", "sentences"), [
    ("The store opens at 9 a.m. on weekdays. It closes at 5 p.m. Returns take 30 days.",
     ["The store opens at 9 a.m. on weekdays.", "It closes at 5 p.m.",
      "Returns take 30 days."]),
    ("Yes. The fee is $5.50 a month, e.g. for basic plans. Dr. Smith agrees!",
     ["Yes. The fee is $5.50 a month, e.g. for basic plans.", "Dr. Smith agrees!"]),
    ("- Refunds within 30 days\n- Shipping is free over $50.\n1. Call us.",
     ["Refunds within 30 days", "Shipping is free over $50.", "Call us."]),
    ("The U.S. economy grew 2.5% in 2023. Exports rose.",
     ["The U.S. economy grew 2.5% in 2023.", "Exports rose."]),
    ("One sentence without a full stop", ["One sentence without a full stop"]),
    ('He said "It is open." Then he left.', ['He said "It is open."', "Then he left."]),
])
def test_answers_split_into_sentences(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences


@pytest.mark.parametrize(("raw", "mode"), [(None, "sentences"), (False, "off"),
                                           ("atomic", "atomic"), ("off", "off")])
def test_claim_modes(raw: object, mode: str) -> None:
    assert parse_claims_mode(raw, "here") == mode


@pytest.mark.parametrize("raw", ["words", True, 3, "Atomic"])
def test_an_unknown_claim_mode_is_an_error(raw: object) -> None:
    with pytest.raises(JudgeConfigError, match="is not a way to split an answer; use one "
                                               "of sentences, atomic, off"):
        parse_claims_mode(raw, "assert_grounded()")


def _part(score: float, *, passed: bool | None = None, unstable: bool = False) -> Verdict:
    return Verdict(passed=score >= 0.5 if passed is None else passed, score=score,
                   threshold=0.5, answer="YES" if score >= 0.5 else "NO",
                   reasoning=f"reason {score}", criterion="c", output=f"claim {score}",
                   judge_id="j", prompt_version="p", prompt_tokens=1, completion_tokens=1,
                   latency_s=0.0, unstable=unstable)


def test_an_answer_is_grounded_only_when_every_claim_is() -> None:
    whole = composite.claims([_part(0.9), _part(0.2), _part(0.7)], criterion="g", output="o",
                           latency_s=0.0)
    assert not whole.passed and not whole.unstable and whole.score == 0.2
    assert whole.reasoning == "reason 0.2"  # the failing claim's reason
    assert composite.claims([_part(0.9), _part(0.7)], criterion="g", output="o",
                          latency_s=0.0).passed


def test_unsettled_claims_make_the_answer_unstable_only_when_they_decide_it() -> None:
    undecided = _part(0.5, passed=True, unstable=True)
    assert composite.claims([_part(0.9), undecided], criterion="g", output="o",
                          latency_s=0.0).unstable
    # A claim that failed firmly decides the answer whatever the unsettled one does.
    firm = composite.claims([_part(0.1), undecided], criterion="g", output="o", latency_s=0.0)
    assert not firm.passed and not firm.unstable


def test_a_checklist_scores_the_weighted_share_of_passed_items() -> None:
    parts = [_part(0.9), _part(0.2), _part(0.8)]
    assert composite.checklist(parts, (1, 1, 1), 1.0, criterion="c", output="o",
                             latency_s=0).score == pytest.approx(2 / 3)
    verdict = composite.checklist(parts, (1, 3, 1), 0.4, criterion="c", output="o",
                                latency_s=0)
    assert verdict.score == pytest.approx(0.4) and verdict.passed
    # One unsettled item between 2/3 and 3/3 at threshold 1.0: UNSTABLE, not FAIL.
    unsettled = [_part(0.9), _part(0.5, passed=False, unstable=True), _part(0.8)]
    assert composite.checklist(unsettled, (1, 1, 1), 1.0, criterion="c", output="o",
                             latency_s=0).outcome == "UNSTABLE"
    assert composite.checklist(unsettled, (1, 1, 1), 0.6, criterion="c", output="o",
                             latency_s=0).outcome == "PASS"


CONTEXT = "The library opens at 9am. Members borrow up to 12 books."


def _project(pytester: pytest.Pytester, call: str, written: list[str] | None = None) -> None:
    pytester.makeini(f"[pytest]\n{ASYNCIO_INI}")
    pytester.makeconftest(stub_conftest("claims", written=written or [],
                                        unsupported=["fee", "invented"]))
    pytester.makepyfile(f"""
        from pytest_llmjudge import assert_grounded

        def test_answer():
            {call}
    """)


def test_a_failure_lists_the_unsupported_sentence_first(pytester: pytest.Pytester) -> None:
    _project(pytester, "assert_grounded('It opens at 9am. A late fee is 50 cents. Members "
                       f"borrow 12 books.', context={CONTEXT!r})")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E   *grounded assertion: 1 of 3 claims not supported; failed: lowest claim score "
        "0.100 < threshold 0.50",
        "E *  claims:",
        "E *  2. FAIL     P(YES)=0.10    A late fee is 50 cents.",
        "E *       reason: checked A late fee is 50 cents.",
        "E *  1. PASS     P(YES)=0.90    It opens at 9am.",
        "E *  3. PASS     P(YES)=0.90    Members borrow 12 books.",
        # Three claims' answers, and the unsupported claim's reason.
        "stub kinds: ['claim', 'claim', 'claim', 'claim']",
    ])


def test_a_one_sentence_answer_is_judged_whole(pytester: pytest.Pytester) -> None:
    _project(pytester, f"assert_grounded('It opens at 9am.', context={CONTEXT!r})")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["stub kinds: ['whole']"])


def test_claims_off_judges_the_whole_answer(pytester: pytest.Pytester) -> None:
    _project(pytester, "assert_grounded('It opens at 9am. Members borrow 12 books.', "
                       f"context={CONTEXT!r}, claims='off')")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["stub kinds: ['whole']"])


def test_atomic_claims_the_answer_does_not_state_are_dropped(
    pytester: pytest.Pytester,
) -> None:
    # The stub's "judge" writes one claim with an invented detail; checked against the
    # answer it is not stated, so it is dropped and named, and the rest are judged.
    _project(pytester, "v = assert_grounded('It opens at 9am and lends 12 books.', "
                       f"context={CONTEXT!r}, claims='atomic')\n            print(v.notes)",
             written=["The library opens at 9am.", "The library lends 12 books.",
                      "The library has an invented cafe."])
    result = pytester.runpytest("-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*claim written by the judge but not stated in the answer, dropped: 'The library "
        "has an invented cafe.'*"])
    # The list, three checks against the answer, then the whole answer and the two kept
    # claims (concurrently, so in any order).
    calls = next(line for line in result.stdout.lines if line.startswith("stub kinds"))
    assert sorted(ast.literal_eval(calls.removeprefix("stub kinds: "))) == [
        "claim", "claim", "claim", "claim", "claim", "list", "whole"]


def test_a_bad_claims_value_errors_before_any_call(pytester: pytest.Pytester) -> None:
    _project(pytester, f"assert_grounded('It opens.', context={CONTEXT!r}, claims='words')")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["E   *assert_grounded(): claims='words' is not a way to "
                                 "split an answer*", "stub calls: 0"])
