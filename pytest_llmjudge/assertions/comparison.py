"""Comparison asserts: ``assert_better`` and ``assert_not_worse`` gate a change (a new
prompt, a new model) against a reference output, often a stored baseline. The
comparison itself, in both orders, is pairwise.py's."""

from __future__ import annotations

from typing import Any

import pytest

from ..config.options import parse_threshold
from ..errors import JudgeConfigError, JudgeError
from ..judging.pairwise import EVEN, compare
from ..judging.verdict import JudgeRequest, Verdict
from ..session import JudgeSession, running
from .judged import _text, build_request, conclude


def comparison_request(session: JudgeSession, item: pytest.Item | None, candidate: object,
                       reference: object, criteria: object, threshold: float,
                       instruction: object, where: str,
                       policy_keywords: dict[str, Any]) -> tuple[JudgeRequest, str]:
    shown = _text(reference, "reference", where)
    assert shown is not None
    request = build_request(session, item, candidate, criteria, threshold, where,
                            policy_keywords, task="pairwise", inputs=[
                                ("instruction", _text(instruction, "instruction", where,
                                                      True))])
    return request, shown


def better_threshold(threshold: object, allow_tie: object, where: str) -> float:
    if not isinstance(allow_tie, bool):
        raise JudgeConfigError(f"{where}: allow_tie must be True or False, got {allow_tie!r}")
    if threshold is None:
        return EVEN
    value = parse_threshold(threshold, f"{where}: threshold")
    if allow_tie:
        raise JudgeConfigError(
            f"{where}: allow_tie=True passes a tie, whose score sits near 0.5, so "
            f"threshold={value} (a clear win) cannot be the test; drop one of them")
    if value <= EVEN:
        raise JudgeConfigError(
            f"{where}: threshold={value} would call a tie or a loss better; the score is "
            "P(candidate better), so use a value above 0.5, e.g. 0.7")
    return value


def _run(where: str, candidate: object, reference: object, criteria: object,
         threshold: float, accept: tuple[str, ...], instruction: object,
         policy_keywords: dict[str, Any]) -> Verdict:
    __tracebackhide__ = True
    try:
        session, item = running()
        request, shown = comparison_request(session, item, candidate, reference, criteria,
                                            threshold, instruction, where, policy_keywords)
        verdict = compare(session.judge, request, shown, accept)
        session.record(item, verdict)
    except JudgeError as err:
        raise err.with_traceback(None) from None
    return conclude(verdict, request.policy.unstable)


def assert_better(candidate: object, reference: object, *, criteria: str,
                  allow_tie: bool = False, threshold: float | None = None,
                  instruction: str | None = None, strategy: str | None = None,
                  polls: int | None = None, min_polls: int | None = None,
                  confidence: float | None = None, unstable: str | None = None) -> Verdict:
    """Assert that ``candidate`` meets ``criteria`` better than ``reference``. Judged in
    both orders; a preference that flips with the order is a tie, which fails unless
    ``allow_tie``. ``threshold`` (above 0.5) also demands P(candidate better) that high."""
    __tracebackhide__ = True
    try:
        value = better_threshold(threshold, allow_tie, "assert_better()")
    except JudgeError as err:
        raise err.with_traceback(None) from None
    accept = ("BETTER", "TIE") if allow_tie else ("BETTER",)
    return _run("assert_better()", candidate, reference, criteria, value if not allow_tie
                else 0.0, accept, instruction, dict(
                    strategy=strategy, polls=polls, min_polls=min_polls,
                    confidence=confidence, unstable=unstable))


def assert_not_worse(candidate: object, reference: object, *, criteria: str,
                     instruction: str | None = None, strategy: str | None = None,
                     polls: int | None = None, min_polls: int | None = None,
                     confidence: float | None = None, unstable: str | None = None) -> Verdict:
    """Assert that ``candidate`` is not worse than ``reference`` by ``criteria``: it passes
    when the candidate is judged better or tied (a preference that flips with the order
    is a tie), and fails only when both orders prefer the reference."""
    __tracebackhide__ = True
    return _run("assert_not_worse()", candidate, reference, criteria, 0.0,
                ("BETTER", "TIE"), instruction, dict(
                    strategy=strategy, polls=polls, min_polls=min_polls,
                    confidence=confidence, unstable=unstable))
