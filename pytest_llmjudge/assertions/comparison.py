"""Comparison asserts: ``assert_better`` and ``assert_not_worse`` gate a change (a new
prompt, a new model) against a reference output, often a stored baseline. The
comparison itself, in both orders, is judging/pairwise.py's."""

from __future__ import annotations

from typing import Any

import pytest

from ..config.thresholds import parse_threshold
from ..errors import JudgeConfigError
from ..judging import requests
from ..judging.pairwise import EVEN, compare
from ..judging.verdict import JudgeRequest, Verdict
from ..session import JudgeSession, running
from ._shared import (
    checked_text,
    conclude,
    marked,
    plain_judge_errors,
    policy_and_threshold,
    required_text,
)


def comparison_request(session: JudgeSession, item: pytest.Item | None, candidate: object,
                       reference: object, criteria: object, threshold: float,
                       instruction: object, where: str,
                       policy_keywords: dict[str, Any]) -> tuple[JudgeRequest, str]:
    """The candidate's request at ``threshold`` (already decided: comparisons have
    their own), and the reference text."""
    shown = required_text(reference, "reference", where)
    policy, resolved = policy_and_threshold(session, item, threshold, where, policy_keywords)
    request = requests.pairwise(candidate, criteria,
                                checked_text(instruction, "instruction", where, True),
                                resolved, policy)
    return request, shown


def better_threshold(threshold: object, allow_tie: object, where: str) -> float:
    """The bar for P(candidate better): 0.5 by default (both orders prefer it), or a
    clear-win threshold above 0.5 from the call or ``@pytest.mark.llmjudge``."""
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
         threshold: object | None, allow_tie: bool, accept: tuple[str, ...],
         instruction: object, policy_keywords: dict[str, Any]) -> Verdict:
    __tracebackhide__ = True
    with plain_judge_errors():
        session, item = running()
        if threshold is None and accept == ("BETTER",):
            # A marker's threshold applies as a call's would; it is checked the same way.
            threshold = marked(item)[1]
        value = better_threshold(threshold, allow_tie, where)
        request, shown = comparison_request(session, item, candidate, reference, criteria,
                                            0.0 if "TIE" in accept else value, instruction,
                                            where, policy_keywords)
        verdict = compare(session.judge, request, shown, accept)
        session.record(item, verdict)
    return conclude(verdict, request.policy.unstable)


def assert_better(candidate: object, reference: object, *, criteria: str,
                  allow_tie: bool = False, threshold: float | None = None,
                  instruction: str | None = None, strategy: str | None = None,
                  polls: int | None = None, min_polls: int | None = None,
                  confidence: float | None = None, unstable: str | None = None,
        reasons: str | None = None) -> Verdict:
    """Assert that ``candidate`` meets ``criteria`` better than ``reference``. Judged in
    both orders; a preference that flips with the order is a tie, which fails unless
    ``allow_tie``. ``threshold`` (above 0.5; else ``@pytest.mark.llmjudge``'s) also
    demands P(candidate better) that high."""
    __tracebackhide__ = True
    accept = ("BETTER", "TIE") if allow_tie else ("BETTER",)
    return _run("assert_better()", candidate, reference, criteria, threshold, allow_tie,
                accept, instruction, dict(strategy=strategy, polls=polls,
                                          min_polls=min_polls, confidence=confidence,
                                          unstable=unstable, reasons=reasons))


def assert_not_worse(candidate: object, reference: object, *, criteria: str,
                     instruction: str | None = None, strategy: str | None = None,
                     polls: int | None = None, min_polls: int | None = None,
                     confidence: float | None = None, unstable: str | None = None,
        reasons: str | None = None) -> Verdict:
    """Assert that ``candidate`` is not worse than ``reference`` by ``criteria``: it passes
    when the candidate is judged better or tied (a preference that flips with the order
    is a tie), and fails only when both orders prefer the reference. It has no
    threshold, so a marker's threshold does not apply to it."""
    __tracebackhide__ = True
    return _run("assert_not_worse()", candidate, reference, criteria, None, False,
                ("BETTER", "TIE"), instruction, dict(
                    strategy=strategy, polls=polls, min_polls=min_polls,
                    confidence=confidence, unstable=unstable, reasons=reasons))

