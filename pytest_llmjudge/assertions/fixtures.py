"""The plugin's three fixtures: ``judge`` (the session's judge, with the verdict in the
test's hands: evaluate, compare, rank, checklists), ``judge_checklist`` (the test's
checklist marker, judged) and ``baseline`` (stored outputs to compare against)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..errors import JudgeConfigError
from ..judging import requests
from ..judging.texts import surrogate_problem
from ..judging.verdict import Verdict
from ..session import JudgeSession
from ..storage.baselines import migrate, read, write
from ._shared import (
    build_request,
    checked_text,
    judge_and_conclude,
    plain_judge_errors,
    policy_and_threshold,
)
from .checklist import CHECKLIST_MARKER, marker_checklist, run_checklist

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
        with plain_judge_errors():
            request = build_request(self._session, self._item, output, criteria, threshold,
                                    "judge.evaluate()", policy, scale=scale)
            return self._session.evaluate(self._item, request)

    def evaluate_many(self, cases: Iterable[tuple[object, str]], *,
                      threshold: float | None = None, **policy: Any) -> list[Verdict]:
        """Judge several (output, criteria) pairs at once, concurrently up to
        ``llmjudge_concurrency``; returns the verdicts in order, asserting nothing."""
        __tracebackhide__ = True
        with plain_judge_errors():
            asked = [build_request(self._session, self._item, o, c, threshold,
                                   "judge.evaluate_many()", policy) for o, c in cases]
            return self._session.evaluate_many(self._item, asked)

    def evaluate_checklist(self, output: object, *, items: Sequence[str] | None = None,
                           instruction: str | None = None,
                           weights: Sequence[float] | None = None,
                           threshold: float | None = None, name: str | None = None,
                           **policy: Any) -> Verdict:
        """Judge ``output`` against a checklist without asserting (the arguments of
        assert_checklist); returns the Verdict, its items in ``verdict.parts``."""
        __tracebackhide__ = True
        from .checklist import checklist_verdict

        with plain_judge_errors():
            verdict, _ = checklist_verdict(
                self._session, self._item, output, items=items, instruction=instruction,
                weights=weights, threshold=threshold, name=name,
                where="judge.evaluate_checklist()", policy_keywords=policy)
        return verdict

    def compare(self, candidate: object, reference: object, *, criteria: str,
                instruction: str | None = None, **policy: Any) -> Verdict:
        """Compare ``candidate`` with ``reference`` in both orders, without asserting.
        ``verdict.answer`` is BETTER, WORSE or TIE; ``verdict.score`` is P(candidate
        better); ``verdict.parts`` holds the two orders."""
        __tracebackhide__ = True
        from ..judging.pairwise import OUTCOMES, compare
        from .comparison import comparison_request

        with plain_judge_errors():
            request, shown = comparison_request(
                self._session, self._item, candidate, reference, criteria, 0.0, instruction,
                "judge.compare()", policy)
            verdict = compare(self._session.judge, request, shown, OUTCOMES)
            self._session.record(self._item, verdict)
        return verdict

    def rank(self, outputs: Sequence[object], *, criteria: str,
             instruction: str | None = None, **policy: Any) -> Ranking:
        """Rank ``outputs`` by ``criteria``: every pair compared in both orders (a round
        robin), each output scored by its mean P(better). Returns a Ranking
        (``order``: indexes, best first; ``scores``: per output, in input order)."""
        __tracebackhide__ = True
        from ..judging.pairwise import rank

        with plain_judge_errors():
            if isinstance(outputs, str) or not isinstance(outputs, Sequence):
                raise JudgeConfigError(
                    f"judge.rank(): outputs must be a list of str, got {type(outputs).__name__}")
            shown = checked_text(instruction, "instruction", "judge.rank()", True)
            chosen, resolved = policy_and_threshold(self._session, self._item, 0.0,
                                                    "judge.rank()", policy)
            ranking = rank(self._session.judge, [
                requests.pairwise(output, criteria, shown, resolved, chosen)
                for output in outputs])
            for _, _, verdict in ranking.comparisons:  # each pair's verdict, in the report
                self._session.record(self._item, verdict)
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
        """``assert_judged`` on this judge (the same keywords)."""
        __tracebackhide__ = True
        return judge_and_conclude("judge.assert_judged()", output, criteria, threshold,
                                  policy, context=(self._session, self._item), scale=scale)


class ChecklistFixture:
    """``judge_checklist(reply)``: judges the reply against the test's checklist marker."""

    def __init__(self, session: JudgeSession, item: pytest.Item) -> None:
        self._session = session
        self._item = item
        self.calls = 0

    def __call__(self, output: object) -> Verdict:
        __tracebackhide__ = True
        with plain_judge_errors():
            keywords = marker_checklist(self._item)
            if keywords is None:
                raise JudgeConfigError(
                    f"{self._item.nodeid} uses judge_checklist but has no "
                    f"@pytest.mark.{CHECKLIST_MARKER}(...) listing the items; add the marker, "
                    "or call assert_checklist(reply, items=[...])")
        self.calls += 1
        return run_checklist(self._session, self._item, output,
                             items=keywords.get("items"),
                             instruction=keywords.get("instruction"),
                             weights=keywords.get("weights"),
                             threshold=keywords.get("threshold"), name=keywords.get("name"),
                             where="judge_checklist()", policy_keywords={})


class BaselineFixture:
    """``baseline(name, output=None)``: the stored output named ``name`` for this test."""

    def __init__(self, item: pytest.Item, update: bool) -> None:
        self._item = item
        self._update = update
        self.path = migrate(Path(item.path), item.nodeid, item.name)

    def __call__(self, name: str, output: str | None = None) -> str:
        __tracebackhide__ = True
        if not isinstance(name, str) or not name.strip():
            raise JudgeConfigError(f"baseline(): the name must be a non-empty str, got {name!r}")
        if self._update:
            if not isinstance(output, str) or not output.strip():
                raise JudgeConfigError(
                    f"baseline({name!r}): --llmjudge-update-baselines records the output "
                    "passed with it, and none was: call baseline(name, output)")
            problem = surrogate_problem(output, f"baseline({name!r})'s output")
            if problem is not None:
                raise JudgeConfigError(problem)
            stored = read(self.path)
            stored[name] = output
            write(self.path, self._item.nodeid, stored)
            return output
        stored = read(self.path)
        if name not in stored:
            where = "in " + str(self.path) if self.path.exists() else f"({self.path} is missing)"
            raise JudgeConfigError(
                f"no baseline {name!r} recorded for {self._item.nodeid} {where}. Record it "
                f"with pytest --llmjudge-update-baselines (the test must pass the output: "
                f"baseline({name!r}, output)), review the file and commit it")
        return stored[name]
