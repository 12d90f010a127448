"""Judged assertions: what a test calls, and how a failed one explains itself."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

import pytest

from .errors import JudgeError
from .judge import make_request
from .session import JudgeSession, running
from .verdict import Verdict


class JudgeAssertionError(AssertionError):
    """A judged assertion that failed. Carries the verdict for reports and other plugins."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        super().__init__("\n".join(explain(verdict)))


def explain(verdict: Verdict) -> list[str]:
    """The lines a failure shows: criterion, output, score vs threshold, reasoning, judge."""
    outcome = "passed" if verdict.passed else "failed"
    relation = ">=" if verdict.passed else "<"
    wrap = textwrap.TextWrapper(width=96, initial_indent="    ", subsequent_indent="    ")
    lines = [
        f"judged assertion {outcome}: score {verdict.score:.3f} {relation} "
        f"threshold {verdict.threshold:.2f}",
        f"  criterion: {verdict.criterion}",
        "  output:",
        *(wrap.fill(line) if line.strip() else "" for line in
          verdict.output_excerpt.splitlines()),
        f"  judge answered {verdict.answer} (P(YES) = {verdict.score:.3f}); reason:",
        wrap.fill(verdict.reasoning),
        f"  judge: {verdict.judge_id}, prompt {verdict.prompt_version}, "
        f"{'from cache' if verdict.cached else 'not cached'}, "
        f"{verdict.prompt_tokens}+{verdict.completion_tokens} tokens, "
        f"{verdict.latency_s:.2f}s, {verdict.attempts} attempt(s)",
    ]
    return lines


def _judge_and_assert(session: JudgeSession, item: pytest.Item | None, output: object,
                      criterion: object, threshold: object | None) -> Verdict:
    __tracebackhide__ = True
    try:
        request = make_request(output, criterion, threshold, session.settings.threshold)
        verdict = session.evaluate(item, request)
    except JudgeError as err:
        # Re-raised without the plugin's inner frames: the user needs the message and the
        # line of their test, not llama.cpp internals.
        raise err.with_traceback(None) from None
    if not verdict.passed:
        raise JudgeAssertionError(verdict)
    return verdict


def assert_judged(output: object, criterion: str, *, threshold: float | None = None) -> Verdict:
    """Assert that the judge finds ``output`` meets ``criterion``.

    Fails with an explanation when the judge's score is below the threshold. Raises a
    JudgeError (the test ends as ERROR) when judging itself could not happen.
    """
    __tracebackhide__ = True
    try:
        session, item = running()
    except JudgeError as err:
        raise err.with_traceback(None) from None
    return _judge_and_assert(session, item, output, criterion, threshold)


async def assert_judged_async(output: object, criterion: str, *,
                              threshold: float | None = None) -> Verdict:
    """``assert_judged`` for async tests: the judge call runs in a worker thread, so the
    test's event loop keeps running and no second loop is started."""
    __tracebackhide__ = True
    import asyncio

    try:
        session, item = running()
    except JudgeError as err:
        raise err.with_traceback(None) from None
    return await asyncio.to_thread(_judge_and_assert, session, item, output, criterion,
                                   threshold)


class JudgeFixture:
    """The ``judge`` fixture: the same judge, with the verdict in your hands."""

    def __init__(self, session: JudgeSession, item: pytest.Item) -> None:
        self._session = session
        self._item = item

    @property
    def judge_id(self) -> str:
        """The judge in effect (loads the model if it is not loaded yet)."""
        return self._session.judge.backend.judge_id

    def evaluate(self, output: object, criteria: str, *,
                 threshold: float | None = None) -> Verdict:
        """Judge without asserting; returns the Verdict (``verdict.passed`` and its reasons)."""
        __tracebackhide__ = True
        try:
            request = make_request(output, criteria, threshold, self._session.settings.threshold)
            return self._session.evaluate(self._item, request)
        except JudgeError as err:
            raise err.with_traceback(None) from None

    def evaluate_many(self, cases: Iterable[tuple[object, str]], *,
                      threshold: float | None = None) -> list[Verdict]:
        """Judge several (output, criteria) pairs at once, concurrently up to
        ``llmjudge_concurrency``; returns the verdicts in order, asserting nothing."""
        __tracebackhide__ = True
        try:
            requests = [make_request(o, c, threshold, self._session.settings.threshold)
                        for o, c in cases]
            return self._session.evaluate_many(self._item, requests)
        except JudgeError as err:
            raise err.with_traceback(None) from None

    async def aevaluate(self, output: object, criteria: str, *,
                        threshold: float | None = None) -> Verdict:
        """``evaluate`` for async tests, off the event loop."""
        import asyncio

        return await asyncio.to_thread(self.evaluate, output, criteria, threshold=threshold)

    def assert_judged(self, output: object, criteria: str, *,
                      threshold: float | None = None) -> Verdict:
        __tracebackhide__ = True
        return _judge_and_assert(self._session, self._item, output, criteria, threshold)
