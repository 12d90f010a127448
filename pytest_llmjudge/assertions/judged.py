"""Judged assertions: what a test calls.

Every helper builds a JudgeRequest (the output, the task's other texts, the
threshold and the polling policy: settings < ``@pytest.mark.llmjudge`` < call
keywords), has the session judge it, and turns the verdict into pass, fail,
warning or error.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Sequence
from typing import Any

import pytest

from ..errors import JudgeConfigError, JudgeError, UnstableVerdictError, UnstableVerdictWarning
from ..judging import composite
from ..judging.claims import GROUNDED_CRITERION
from ..judging.judge import make_request
from ..judging.policy import make_policy
from ..judging.verdict import JudgeRequest, Verdict
from ..reporting.failure import explain
from ..session import JudgeSession, running

MARKER = "llmjudge"
# The question the abstention prompt asks, one per direction (each judged on its own).
ABSTAINS = "Does the answer abstain?"
ANSWERS = "Does the answer give the information asked for, or a guess at it?"


class JudgeAssertionError(AssertionError):
    """A judged assertion that failed. Carries the verdict for reports and other plugins."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        super().__init__("\n".join(explain(verdict)))


def build_request(session: JudgeSession, item: pytest.Item | None, output: object,
                  criterion: object, threshold: object | None, where: str,
                  policy_keywords: dict[str, Any], task: str = "criterion",
                  inputs: Sequence[tuple[str, str | None]] = (),
                  scale: object = None) -> JudgeRequest:
    """Arguments checked and merged with the marker and the settings."""
    policy = session.settings.policy
    marker = item.get_closest_marker(MARKER) if item is not None else None
    if marker is not None:
        if marker.args:
            raise JudgeConfigError(
                "@pytest.mark.llmjudge takes keywords only, e.g. "
                "@pytest.mark.llmjudge(strategy='chainpoll', polls=5)"
            )
        keywords = dict(marker.kwargs)
        marked_threshold = keywords.pop("threshold", None)
        policy = make_policy(policy, keywords, "@pytest.mark.llmjudge")
        if threshold is None:
            threshold = marked_threshold
    policy = make_policy(policy, policy_keywords, where)
    return make_request(output, criterion, threshold, session.settings.threshold,
                        task=task, inputs=inputs, policy=policy, scale=scale)


def conclude(verdict: Verdict, unstable: str) -> Verdict:
    """Pass, fail, or what an UNSTABLE verdict does under the policy's ``unstable``."""
    __tracebackhide__ = True
    if verdict.dry_run:
        return verdict  # placeholders graded nothing: the test is reported as skipped
    if verdict.unstable:
        if unstable == "error":
            raise UnstableVerdictError("\n".join(explain(verdict)))
        if unstable == "warn":
            warnings.warn(UnstableVerdictWarning("\n".join(explain(verdict))), stacklevel=3)
            return verdict
        raise JudgeAssertionError(verdict)
    if not verdict.passed:
        raise JudgeAssertionError(verdict)
    return verdict


def _assert(where: str, output: object, criterion: object, threshold: object | None,
            policy_keywords: dict[str, Any], task: str = "criterion",
            inputs: Sequence[tuple[str, str | None]] = (),
            context: tuple[JudgeSession, pytest.Item | None] | None = None,
            scale: object = None) -> Verdict:
    __tracebackhide__ = True
    try:
        session, item = context or running()
        request = build_request(session, item, output, criterion, threshold, where,
                                policy_keywords, task, inputs, scale)
        verdict = session.evaluate(item, request)
    except JudgeError as err:
        # Re-raised without the plugin's inner frames: the user needs the message and the
        # line of their test, not llama.cpp internals.
        raise err.with_traceback(None) from None
    return conclude(verdict, request.policy.unstable)


def _text(value: object, name: str, helper: str, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise JudgeConfigError(
            f"{helper}: {name} must be a non-empty str, got {value!r}"
            + ("; leave it out (None) if there is none" if optional else "")
        )
    return value


def assert_judged(output: object, criterion: str, *, threshold: float | None = None,
                  strategy: str | None = None, polls: int | None = None,
                  min_polls: int | None = None, confidence: float | None = None,
                  unstable: str | None = None, scale: int | None = None) -> Verdict:
    """Assert that the judge finds ``output`` meets ``criterion``.

    Fails with an explanation when the score is below the threshold (or the polled
    verdict is UNSTABLE, by default). Raises a JudgeError (the test ends as ERROR)
    when judging itself could not happen. Keywords left out come from
    ``@pytest.mark.llmjudge`` and then the settings. ``scale=5`` asks for a 1..5
    rating instead of YES/NO; the score is then the rating mapped onto 0..1 (the
    expected rating under ``logprob``).
    """
    __tracebackhide__ = True
    return _assert("assert_judged()", output, criterion, threshold, dict(
        strategy=strategy, polls=polls, min_polls=min_polls, confidence=confidence,
        unstable=unstable), scale=scale)


def assert_grounded(answer: object, *, context: str, question: str | None = None,
                    claims: str | None = None, threshold: float | None = None,
                    strategy: str | None = None, polls: int | None = None,
                    min_polls: int | None = None, confidence: float | None = None,
                    unstable: str | None = None) -> Verdict:
    """Assert that every claim in ``answer`` is supported by ``context`` (adherence: a
    true statement the context does not make is still a failure).

    The answer is judged claim by claim (``claims``: ``"sentences"``, the default, by
    rule; ``"atomic"``, claims the judge writes; ``"off"``, the whole answer at once),
    and a failure lists the unsupported claims with the judge's reasons."""
    __tracebackhide__ = True
    from ..judging.claims import judge_grounded, parse_claims_mode

    where = "assert_grounded()"
    try:
        mode = parse_claims_mode(claims, where)
        inputs = [("context", _text(context, "context", where)),
                  ("question_text", _text(question, "question", where, True))]
        session, item = running()
        request = build_request(session, item, answer, GROUNDED_CRITERION, threshold, where,
                                dict(strategy=strategy, polls=polls, min_polls=min_polls,
                                     confidence=confidence, unstable=unstable),
                                task="grounded", inputs=inputs)
        verdict = judge_grounded(session.judge, request, mode)
        session.record(item, verdict)
    except JudgeError as err:
        raise err.with_traceback(None) from None
    return conclude(verdict, request.policy.unstable)


def assert_correct(answer: object, *, question: str, reference: str | None = None,
                   threshold: float | None = None, strategy: str | None = None,
                   polls: int | None = None, min_polls: int | None = None,
                   confidence: float | None = None, unstable: str | None = None) -> Verdict:
    """Assert that ``answer`` answers ``question`` correctly: judged against
    ``reference`` when given, by the judge's world knowledge otherwise."""
    __tracebackhide__ = True
    try:
        inputs = [("question_text", _text(question, "question", "assert_correct()")),
                  ("reference", _text(reference, "reference", "assert_correct()", True))]
    except JudgeError as err:
        raise err.with_traceback(None) from None
    criterion = ("The answer states the same facts as the reference answer" if reference
                 else "The answer is factually correct")
    return _assert("assert_correct()", answer, criterion, threshold, dict(
        strategy=strategy, polls=polls, min_polls=min_polls, confidence=confidence,
        unstable=unstable), task="correct", inputs=inputs)


def assert_abstains(answer: object, *, question: str, context: str | None = None,
                    threshold: float | None = None, strategy: str | None = None,
                    polls: int | None = None, min_polls: int | None = None,
                    confidence: float | None = None, unstable: str | None = None) -> Verdict:
    """Assert that ``answer`` declines, or says it does not know, instead of answering
    ``question`` (use it where ``context`` cannot answer the question). A hedged guess
    is an answer, not an abstention."""
    __tracebackhide__ = True
    return _abstention("assert_abstains()", ABSTAINS, answer, question, context, threshold,
                       dict(strategy=strategy, polls=polls, min_polls=min_polls,
                            confidence=confidence, unstable=unstable))


def assert_not_abstains(answer: object, *, question: str, context: str | None = None,
                        threshold: float | None = None, strategy: str | None = None,
                        polls: int | None = None, min_polls: int | None = None,
                        confidence: float | None = None,
                        unstable: str | None = None) -> Verdict:
    """Assert that ``answer`` answers ``question`` rather than declining (use it where
    the context holds the answer, to catch an app that refuses too often). It does not
    check that the answer is right: pair it with assert_grounded or assert_correct."""
    __tracebackhide__ = True
    return _abstention("assert_not_abstains()", ANSWERS, answer, question, context,
                       threshold, dict(strategy=strategy, polls=polls, min_polls=min_polls,
                                       confidence=confidence, unstable=unstable))


def _abstention(where: str, criterion: str, answer: object, question: object,
                context: object, threshold: float | None,
                policy_keywords: dict[str, Any]) -> Verdict:
    """Both questions are asked, "does it abstain?" and "does it answer?", and their
    scores averaged: the 1.5B judge leans to YES on either question alone (measured on
    tests/test_checklist_quality.py's cases, "I don't know." got P(YES) 0.54 for
    "does it answer?"), and the lean cancels out."""
    __tracebackhide__ = True
    try:
        started = time.perf_counter()
        inputs = [("question_text", _text(question, "question", where)),
                  ("context", _text(context, "context", where, True))]
        session, item = running()
        opposite = ANSWERS if criterion == ABSTAINS else ABSTAINS
        asked, other = (build_request(session, item, answer, c, threshold, where,
                                      policy_keywords, task="abstention", inputs=inputs)
                        for c in (criterion, opposite))
        yes, no = session.judge_all([asked, other])
        verdict = composite.both_ways(yes, no, asked.threshold, criterion=criterion,
                                    latency_s=time.perf_counter() - started)
        session.record(item, verdict)
    except JudgeError as err:
        raise err.with_traceback(None) from None
    return conclude(verdict, asked.policy.unstable)


async def assert_judged_async(output: object, criterion: str, *,
                              threshold: float | None = None, **policy: Any) -> Verdict:
    """``assert_judged`` for async tests: the judge call runs in a worker thread, so the
    test's event loop keeps running and no second loop is started."""
    __tracebackhide__ = True
    import asyncio

    try:
        context = running()
    except JudgeError as err:
        raise err.with_traceback(None) from None
    scale = policy.pop("scale", None)
    return await asyncio.to_thread(_assert, "assert_judged_async()", output, criterion,
                                   threshold, policy, "criterion", (), context, scale)
