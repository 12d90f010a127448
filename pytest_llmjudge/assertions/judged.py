"""Judged assertions on one output: ``assert_judged``, ``assert_grounded``,
``assert_correct``, ``assert_abstains`` and ``assert_not_abstains``.

Every helper builds a request (the output, the task's other texts, the threshold and
the polling policy: settings < ``@pytest.mark.llmjudge`` < call keywords), has the
session judge it, and turns the verdict into pass, fail, warning or error.
"""

from __future__ import annotations

import time
from typing import Any

from ..judging import composite, requests
from ..judging.strategies import unexplained, with_shown_reason
from ..judging.verdict import Verdict
from ..session import running
from ._shared import (
    JudgeAssertionError,
    checked_text,
    conclude,
    judge_and_conclude,
    plain_judge_errors,
    policy_and_threshold,
    required_text,
)

__all__ = ["JudgeAssertionError", "assert_abstains", "assert_correct", "assert_grounded",
           "assert_judged", "assert_judged_async", "assert_not_abstains"]


def assert_judged(output: object, criterion: str, *, threshold: float | None = None,
                  strategy: str | None = None, polls: int | None = None,
                  min_polls: int | None = None, confidence: float | None = None,
                  unstable: str | None = None, reasons: str | None = None,
                  scale: int | None = None) -> Verdict:
    """Assert that the judge finds ``output`` meets ``criterion``.

    Fails with an explanation when the score is below the threshold (or the polled
    verdict is UNSTABLE, by default). Raises a JudgeError (the test ends as ERROR)
    when judging itself could not happen. Keywords left out come from
    ``@pytest.mark.llmjudge`` and then the settings. ``scale=5`` asks for a 1..5
    rating instead of YES/NO; the score is then the rating mapped onto 0..1 (the
    expected rating under ``logprob``).
    """
    __tracebackhide__ = True
    return judge_and_conclude("assert_judged()", output, criterion, threshold, dict(
        strategy=strategy, polls=polls, min_polls=min_polls, confidence=confidence,
        unstable=unstable, reasons=reasons), scale=scale)


def assert_grounded(answer: object, *, context: str | None = None,
                    question: str | None = None,
                    claims: str | None = None, threshold: float | None = None,
                    strategy: str | None = None, polls: int | None = None,
                    min_polls: int | None = None, confidence: float | None = None,
                    unstable: str | None = None,
        reasons: str | None = None) -> Verdict:
    """Assert that every claim in ``answer`` is supported by ``context`` (adherence: a
    true statement the context does not make is still a failure).

    The answer is judged claim by claim (``claims``: ``"sentences"``, the default, by
    rule; ``"atomic"``, claims the judge writes; ``"off"``, the whole answer at once),
    and a failure lists the unsupported claims with the judge's reasons.

    ``answer`` may be a conversation: then each assistant turn is checked against the
    context (optional) and what came before the turn: the tool results and what the
    user said (judging/turns.py)."""
    __tracebackhide__ = True
    from ..judging.claims import judge_grounded, parse_claims_mode
    from ..judging.transcripts import is_conversation

    where = "assert_grounded()"
    with plain_judge_errors():
        mode = parse_claims_mode(claims, where)
        conversation = is_conversation(answer)
        shown_context = (checked_text(context, "context", where, True) if conversation else
                         required_text(context, "context", where))
        shown_question = checked_text(question, "question", where, True)
        session, item = running()
        policy, resolved = policy_and_threshold(session, item, threshold, where, dict(
            strategy=strategy, polls=polls, min_polls=min_polls, confidence=confidence,
            unstable=unstable, reasons=reasons))
        if conversation:
            from .agents import grounded_turns

            verdict = grounded_turns(session, item, answer, shown_context, shown_question,
                                     mode, resolved, policy, where)
            return conclude(verdict, policy.unstable)
        assert shown_context is not None
        request = requests.grounded(answer, shown_context, shown_question, resolved, policy)
        verdict = judge_grounded(session.judge, request, mode)
        session.record(item, verdict)
    return conclude(verdict, request.policy.unstable)


def assert_correct(answer: object, *, question: str, reference: str | None = None,
                   threshold: float | None = None, strategy: str | None = None,
                   polls: int | None = None, min_polls: int | None = None,
                   confidence: float | None = None, unstable: str | None = None,
        reasons: str | None = None) -> Verdict:
    """Assert that ``answer`` answers ``question`` correctly: judged against
    ``reference`` when given, by the judge's world knowledge otherwise."""
    __tracebackhide__ = True
    where = "assert_correct()"
    with plain_judge_errors():
        shown_question = required_text(question, "question", where)
        shown_reference = checked_text(reference, "reference", where, True)
        session, item = running()
        policy, resolved = policy_and_threshold(session, item, threshold, where, dict(
            strategy=strategy, polls=polls, min_polls=min_polls, confidence=confidence,
            unstable=unstable, reasons=reasons))
        request = requests.correct(answer, shown_question, shown_reference, resolved, policy)
        verdict = session.evaluate(item, request)
    return conclude(verdict, request.policy.unstable)


def assert_abstains(answer: object, *, question: str, context: str | None = None,
                    threshold: float | None = None, strategy: str | None = None,
                    polls: int | None = None, min_polls: int | None = None,
                    confidence: float | None = None, unstable: str | None = None,
        reasons: str | None = None) -> Verdict:
    """Assert that ``answer`` declines, or says it does not know, instead of answering
    ``question`` (use it where ``context`` cannot answer the question). A hedged guess
    is an answer, not an abstention."""
    __tracebackhide__ = True
    return _abstention("assert_abstains()", requests.ABSTAINS, answer, question, context, threshold,
                       dict(strategy=strategy, polls=polls, min_polls=min_polls,
                            confidence=confidence, unstable=unstable, reasons=reasons))


def assert_not_abstains(answer: object, *, question: str, context: str | None = None,
                        threshold: float | None = None, strategy: str | None = None,
                        polls: int | None = None, min_polls: int | None = None,
                        confidence: float | None = None,
                        unstable: str | None = None,
        reasons: str | None = None) -> Verdict:
    """Assert that ``answer`` answers ``question`` rather than declining (use it where
    the context holds the answer, to catch an app that refuses too often). It does not
    check that the answer is right: pair it with assert_grounded or assert_correct."""
    __tracebackhide__ = True
    return _abstention("assert_not_abstains()", requests.ANSWERS, answer, question, context,
                       threshold, dict(strategy=strategy, polls=polls, min_polls=min_polls,
                                       confidence=confidence, unstable=unstable, reasons=reasons))


def _abstention(where: str, criterion: str, answer: object, question: object,
                context: object, threshold: float | None,
                policy_keywords: dict[str, Any]) -> Verdict:
    """Both questions are asked, "does it abstain?" and "does it answer?", and their
    scores averaged: the 1.5B judge leans to YES on either question alone (measured on
    tests/test_checklist_quality.py's cases, "I don't know." got P(YES) 0.54 for
    "does it answer?"), and the lean cancels out."""
    __tracebackhide__ = True
    with plain_judge_errors():
        started = time.perf_counter()
        shown_question = required_text(question, "question", where)
        shown_context = checked_text(context, "context", where, True)
        session, item = running()
        policy, resolved = policy_and_threshold(session, item, threshold, where,
                                                policy_keywords)
        opposite = requests.ANSWERS if criterion == requests.ABSTAINS else requests.ABSTAINS
        asked, other = (unexplained(requests.abstention(answer, shown_question,
                                                        shown_context, c, resolved, policy))
                        for c in (criterion, opposite))
        yes, no = session.judge_all([asked, other])
        verdict = with_shown_reason(session.judge, composite.both_ways(
            yes, no, asked.threshold, criterion=criterion,
            latency_s=time.perf_counter() - started), [asked, other], policy.reasons)
        session.record(item, verdict)
    return conclude(verdict, asked.policy.unstable)


async def assert_judged_async(output: object, criterion: str, *,
                              threshold: float | None = None, **policy: Any) -> Verdict:
    """``assert_judged`` for async tests: the judge call runs in a worker thread, so the
    test's event loop keeps running and no second loop is started."""
    __tracebackhide__ = True
    import asyncio

    with plain_judge_errors():
        context = running()
    scale = policy.pop("scale", None)
    return await asyncio.to_thread(judge_and_conclude, "assert_judged_async()", output,
                                   criterion, threshold, policy, context, scale)
