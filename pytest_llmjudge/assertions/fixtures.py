"""The ``judge`` fixture: the session's judge, with the verdict in the test's hands
(evaluate, compare, rank, checklists) instead of an assertion."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from ..errors import JudgeConfigError, JudgeError
from ..judging.verdict import Verdict
from ..session import JudgeSession
from .judged import _assert, _text, build_request

if TYPE_CHECKING:
    from ..judging.pairwise import Ranking


class JudgeFixture:
    """The ``judge`` fixture: the same judge, with the verdict in your hands."""

    def __init__(self, session: JudgeSession, item: pytest.Item) -> None:
        self._session = session
        self._item = item

    @property
    def judge_id(self) -> str:
        """The judge in effect (loads the model if it is not loaded yet)."""
        return self._session.judge.backend.judge_id

    def evaluate(self, output: object, criteria: str, *, threshold: float | None = None,
                 scale: int | None = None, **policy: Any) -> Verdict:
        """Judge without asserting; returns the Verdict (``verdict.passed``,
        ``verdict.unstable``, ``verdict.votes``). Takes the keywords of assert_judged
        (strategy, polls, min_polls, confidence, scale)."""
        __tracebackhide__ = True
        try:
            request = build_request(self._session, self._item, output, criteria, threshold,
                                    "judge.evaluate()", policy, scale=scale)
            return self._session.evaluate(self._item, request)
        except JudgeError as err:
            raise err.with_traceback(None) from None

    def evaluate_many(self, cases: Iterable[tuple[object, str]], *,
                      threshold: float | None = None, **policy: Any) -> list[Verdict]:
        """Judge several (output, criteria) pairs at once, concurrently up to
        ``llmjudge_concurrency``; returns the verdicts in order, asserting nothing."""
        __tracebackhide__ = True
        try:
            requests = [build_request(self._session, self._item, o, c, threshold,
                                      "judge.evaluate_many()", policy) for o, c in cases]
            return self._session.evaluate_many(self._item, requests)
        except JudgeError as err:
            raise err.with_traceback(None) from None

    def evaluate_checklist(self, output: object, *, items: Sequence[str] | None = None,
                           instruction: str | None = None,
                           weights: Sequence[float] | None = None,
                           threshold: float | None = None, name: str | None = None,
                           **policy: Any) -> Verdict:
        """Judge ``output`` against a checklist without asserting (the arguments of
        assert_checklist); returns the Verdict, its items in ``verdict.parts``."""
        __tracebackhide__ = True
        from .checklist import checklist_verdict

        try:
            verdict, _ = checklist_verdict(
                self._session, self._item, output, items=items, instruction=instruction,
                weights=weights, threshold=threshold, name=name,
                where="judge.evaluate_checklist()", policy_keywords=policy)
        except JudgeError as err:
            raise err.with_traceback(None) from None
        return verdict

    def compare(self, candidate: object, reference: object, *, criteria: str,
                instruction: str | None = None, **policy: Any) -> Verdict:
        """Compare ``candidate`` with ``reference`` in both orders, without asserting.
        ``verdict.answer`` is BETTER, WORSE or TIE; ``verdict.score`` is P(candidate
        better); ``verdict.parts`` holds the two orders."""
        __tracebackhide__ = True
        from ..judging.pairwise import OUTCOMES, compare
        from .comparison import comparison_request

        try:
            request, shown = comparison_request(
                self._session, self._item, candidate, reference, criteria, 0.0, instruction,
                "judge.compare()", policy)
            verdict = compare(self._session.judge, request, shown, OUTCOMES)
            self._session.record(self._item, verdict)
        except JudgeError as err:
            raise err.with_traceback(None) from None
        return verdict

    def rank(self, outputs: Sequence[object], *, criteria: str,
             instruction: str | None = None, **policy: Any) -> Ranking:
        """Rank ``outputs`` by ``criteria``: every pair compared in both orders (a round
        robin), each output scored by its mean P(better). Returns a Ranking
        (``order``: indexes, best first; ``scores``: per output, in input order)."""
        __tracebackhide__ = True
        from ..judging.pairwise import rank

        try:
            if isinstance(outputs, str) or not isinstance(outputs, Sequence):
                raise JudgeConfigError(
                    f"judge.rank(): outputs must be a list of str, got {type(outputs).__name__}")
            shown = _text(instruction, "instruction", "judge.rank()", True)
            requests = [build_request(self._session, self._item, output, criteria, 0.0,
                                      "judge.rank()", policy, task="pairwise",
                                      inputs=[("instruction", shown)])
                        for output in outputs]
            ranking = rank(self._session.judge, requests)
            for _, _, verdict in ranking.comparisons:  # each pair's verdict, in the report
                self._session.record(self._item, verdict)
        except JudgeError as err:
            raise err.with_traceback(None) from None
        return ranking

    async def aevaluate(self, output: object, criteria: str, *,
                        threshold: float | None = None, scale: int | None = None,
                        **policy: Any) -> Verdict:
        """``evaluate`` for async tests, off the event loop."""
        import asyncio

        return await asyncio.to_thread(self.evaluate, output, criteria, threshold=threshold,
                                       scale=scale, **policy)

    def assert_judged(self, output: object, criteria: str, *,
                      threshold: float | None = None, scale: int | None = None,
                      **policy: Any) -> Verdict:
        __tracebackhide__ = True
        return _assert("judge.assert_judged()", output, criteria, threshold, policy,
                       context=(self._session, self._item), scale=scale)
