"""Checklists, claim-level grounding and abstention judged by the default 1.5B model on
hand-written cases whose verdicts are clear (written for this project)."""

from __future__ import annotations

import pytest
from grounding_cases import BRIDGE, GROUNDING, KETTLE, LIBRARY

from pytest_llmjudge.assertions.checklist import judge_items
from pytest_llmjudge.judging import composite
from pytest_llmjudge.judging.claims import GROUNDED_CRITERION, judge_grounded
from pytest_llmjudge.judging.judge import Judge
from pytest_llmjudge.judging.requests import ABSTAINS, ANSWERS, make_request
from pytest_llmjudge.judging.verdict import Verdict

ITEMS = ["Mentions the order number", "Offers a refund or a replacement",
         "Does not promise a delivery date"]
INSTRUCTION = ("Reply to a customer whose order #1234 arrived damaged. Offer a refund or a "
               "replacement, and do not promise a delivery date.")


def _checklist(judge: Judge, reply: str) -> Verdict:
    requests = [make_request(reply, item, None, 0.5, task="checklist",
                             inputs=[("instruction", INSTRUCTION)]) for item in ITEMS]
    return judge_items(judge, requests, (1.0,) * len(ITEMS), 1.0)


def test_a_reply_that_meets_every_item_passes(quality_judge: Judge) -> None:
    verdict = _checklist(quality_judge, (
        "We're sorry your order #1234 arrived damaged. We can send you a replacement or "
        "refund you in full, whichever you prefer."))
    assert verdict.passed, [(p.criterion, p.score, p.reasoning) for p in verdict.parts]


def test_a_reply_is_failed_on_the_items_it_misses(quality_judge: Judge) -> None:
    verdict = _checklist(quality_judge, (
        "Thanks for getting in touch. Your new kettle will arrive on Friday."))
    outcomes = {p.criterion: p.passed for p in verdict.parts}
    assert outcomes == dict.fromkeys(ITEMS, False), [
        (p.criterion, p.score, p.reasoning) for p in verdict.parts]


def _grounded(judge: Judge, context: str, answer: str, mode: str = "sentences") -> Verdict:
    return judge_grounded(judge, make_request(
        answer, GROUNDED_CRITERION, None, 0.5, task="grounded",
        inputs=[("context", context), ("question_text", None)]), mode)


INVENTED = [
    (LIBRARY, "The library opens at 9am on weekdays. Members can borrow up to 12 books. "
              "Late returns cost 50 cents a day.", "Late returns cost 50 cents a day."),
    (BRIDGE, "The Harlow footbridge was closed on Monday. Inspectors found cracks in two of "
             "its steel supports. The council has hired a German firm for the repairs.",
     "The council has hired a German firm for the repairs."),
    (KETTLE, "The K2 kettle holds 1.7 litres. It switches itself off when the water boils. "
             "It comes in six colours.", "It comes in six colours."),
]


@pytest.mark.parametrize(("context", "answer", "invented"), INVENTED,
                         ids=["library", "bridge", "kettle"])
def test_the_invented_sentence_is_the_one_listed(quality_judge: Judge, context: str,
                                                 answer: str, invented: str) -> None:
    verdict = _grounded(quality_judge, context, answer)
    unsupported = [p.output for p in verdict.parts if not p.passed]
    assert not verdict.passed and unsupported == [invented], [
        (p.output, round(p.score, 3), p.reasoning) for p in verdict.parts]


@pytest.mark.parametrize(("context", "answer", "invented"), INVENTED,
                         ids=["library", "bridge", "kettle"])
def test_the_same_answers_without_the_invention_pass(quality_judge: Judge, context: str,
                                                     answer: str, invented: str) -> None:
    verdict = _grounded(quality_judge, context, answer.replace(" " + invented, ""))
    assert verdict.passed and len(verdict.parts) == 2, [
        (p.output, round(p.score, 3), p.reasoning) for p in verdict.parts]


QUESTION = "How long does the kettle take to boil half a tank?"


@pytest.mark.parametrize(("answer", "abstains"), [
    ("I'm sorry, the information I have doesn't say how long half a tank takes.", True),
    ("I don't know.", True),
    ("I can't tell from the information given.", True),
    ("Half a tank boils in about two minutes.", False),
    ("A full tank takes about four minutes, so half a tank takes about two.", False),
])
def test_abstention_is_told_from_an_answer(quality_judge: Judge, answer: str,
                                           abstains: bool) -> None:
    yes, no = (quality_judge.evaluate(make_request(
        answer, question, None, 0.5, task="abstention",
        inputs=[("question_text", QUESTION), ("context", KETTLE)]))
        for question in (ABSTAINS, ANSWERS))
    verdict = composite.both_ways(yes, no, 0.5, criterion=ABSTAINS, latency_s=0.0)
    assert verdict.passed == abstains, (yes.score, no.score, verdict.reasoning)


def test_atomic_claims_catch_an_invention_inside_one_sentence(quality_judge: Judge) -> None:
    # Whole, this one-sentence answer fails only narrowly (P(YES) 0.446 at threshold 0.5);
    # split into claims, the invented fee is a claim of its own and fails clearly.
    case = next(c for c in GROUNDING if c.name == "loans-invented-fee")
    verdict = _grounded(quality_judge, case.context, case.response, mode="atomic")
    whole, *claims = verdict.parts
    assert whole.output == case.response and claims
    unsupported = [p.output for p in claims if not p.passed]
    assert not verdict.passed and any("50 cents" in c for c in unsupported), [
        (p.output, round(p.score, 3)) for p in verdict.parts]
