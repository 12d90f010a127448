"""Checklists (TICK): an output judged item by item, each item a YES/NO question.

Items come from the test (``items=[...]`` or ``@pytest.mark.llmjudge_checklist``) or
are written by the judge for an instruction once and then frozen in a reviewable
file (checklist_file.py). Each item is an ordinary judged request (polled under the
policy in effect), judged concurrently where the backend allows; the checklist's
score is the weighted share of items that passed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import pytest

from ..config.options import parse_threshold
from ..errors import JudgeConfigError, JudgeError
from ..judging import composite
from ..judging.judge import Judge, evaluate_many
from ..judging.verdict import JudgeRequest, Verdict
from ..session import JudgeSession, running
from .judged import build_request, conclude

CHECKLIST_MARKER = "llmjudge_checklist"
# The share of (weighted) items that must pass when the test says nothing: all of them.
DEFAULT_PASS_RATE = 1.0


def parse_items(raw: object, where: str) -> tuple[str, ...]:
    """Checklist items as the user wrote them: a non-empty list of distinct strings."""
    if isinstance(raw, str):
        raise JudgeConfigError(
            f"{where}: the checklist is one string ({raw!r}); give a list of items, "
            f"e.g. items=[{raw!r}]"
        )
    if not isinstance(raw, (list, tuple)):
        raise JudgeConfigError(
            f"{where}: the checklist must be a list of str items, got {type(raw).__name__}")
    if not raw:
        raise JudgeConfigError(
            f"{where}: the checklist is empty; an empty checklist would pass anything. "
            "Give at least one item, or instruction=... to have the judge write them")
    seen: dict[str, int] = {}
    items: list[str] = []
    for number, item in enumerate(raw, 1):
        if not isinstance(item, str):
            raise JudgeConfigError(
                f"{where}: checklist item {number} is a {type(item).__name__} ({item!r}); "
                "every item must be a str, e.g. 'Mentions the order number'")
        text = " ".join(item.split())
        if not text:
            raise JudgeConfigError(f"{where}: checklist item {number} is empty")
        if text.casefold() in seen:
            raise JudgeConfigError(
                f"{where}: checklist item {number} repeats item {seen[text.casefold()]} "
                f"({text!r}); a repeat would count twice. Remove it, or weight the item "
                "with weights=[...]")
        seen[text.casefold()] = number
        items.append(text)
    return tuple(items)


def parse_weights(raw: object, count: int, where: str) -> tuple[float, ...]:
    if raw is None:
        return (1.0,) * count
    if isinstance(raw, (str, bytes)) or not isinstance(raw, Sequence) or len(raw) != count:
        raise JudgeConfigError(
            f"{where}: weights must be a list of {count} numbers, one per item, got {raw!r}")
    weights: list[float] = []
    for number, weight in enumerate(raw, 1):
        if (isinstance(weight, bool) or not isinstance(weight, (int, float))
                or not math.isfinite(weight) or weight <= 0):
            raise JudgeConfigError(
                f"{where}: weight {number} is {weight!r}; weights must be positive numbers")
        weights.append(float(weight))
    return tuple(weights)


def parse_pass_rate(raw: object, where: str) -> float:
    if raw is None:
        return DEFAULT_PASS_RATE
    rate = parse_threshold(raw, f"{where}: threshold")
    if rate == 0.0:
        raise JudgeConfigError(
            f"{where}: threshold=0 would pass a reply that fails every item; the checklist "
            "threshold is the share of items that must pass, e.g. 1.0 (all) or 0.8")
    return rate


def checklist_verdict(session: JudgeSession, item: pytest.Item | None, output: object, *,
                      items: object, instruction: object, weights: object, threshold: object,
                      name: object, where: str,
                      policy_keywords: dict[str, Any]) -> tuple[Verdict, str]:
    """Judge ``output`` against the checklist and record the verdict; returns it with the
    unstable mode of its policy. Raises JudgeError when judging cannot happen."""
    started = time.perf_counter()
    if instruction is not None and (not isinstance(instruction, str)
                                    or not instruction.strip()):
        raise JudgeConfigError(
            f"{where}: instruction must be a non-empty str, got {instruction!r}")
    shown = (("instruction", instruction if isinstance(instruction, str) else None),)
    # The output, the policy and the pass rate are checked before the judge writes a
    # checklist: a bad argument must not cost a generation, or a file.
    build_request(session, item, output, "checked first", None, where, policy_keywords,
                  task="checklist", inputs=shown)
    rate = parse_pass_rate(threshold, where)
    notes: list[str] = []
    extra = composite.Extra()
    if items is None:
        if instruction is None:
            raise JudgeConfigError(
                f"{where}: give the checklist, items=[...], or instruction=... to have "
                "the judge write one (kept in a file for review)")
        from ..storage.checklist_files import frozen_items

        frozen = frozen_items(session, item, str(instruction), name, where)
        items, extra = frozen.items, frozen.extra
        notes.append(frozen.note)
    elif name is not None:
        raise JudgeConfigError(f"{where}: name= names a generated checklist's file; "
                               "it needs instruction= and no items=")
    checked = parse_items(items, where)
    weighed = parse_weights(weights, len(checked), where)
    requests = [build_request(session, item, output, question, None, where,
                              policy_keywords, task="checklist", inputs=shown)
                for question in checked]
    verdict = judge_items(session.judge, requests, weighed, rate, notes=notes, extra=extra,
                          started=started)
    session.record(item, verdict)
    return verdict, requests[0].policy.unstable


def judge_items(judge: Judge, requests: Sequence[JudgeRequest], weights: Sequence[float],
                rate: float, *, notes: Sequence[str] = (),
                extra: composite.Extra = composite.NO_EXTRA,
                started: float | None = None) -> Verdict:
    """The checklist verdict on item requests (task ``checklist``), judged concurrently
    where the backend allows."""
    started = time.perf_counter() if started is None else started
    parts = evaluate_many(judge, requests)
    return composite.checklist(parts, weights, rate,
                             criterion=f"checklist of {len(requests)} items",
                             output=requests[0].output,
                             latency_s=time.perf_counter() - started, notes=notes,
                             extra=extra)


def run_checklist(session: JudgeSession, item: pytest.Item | None, output: object, *,
                  where: str, **arguments: Any) -> Verdict:
    """checklist_verdict, asserted (the core of assert_checklist and judge_checklist)."""
    __tracebackhide__ = True
    try:
        verdict, unstable = checklist_verdict(session, item, output, where=where, **arguments)
    except JudgeError as err:
        raise err.with_traceback(None) from None
    return conclude(verdict, unstable)


def assert_checklist(output: object, *, items: Sequence[str] | None = None,
                     instruction: str | None = None, weights: Sequence[float] | None = None,
                     threshold: float | None = None, name: str | None = None,
                     strategy: str | None = None, polls: int | None = None,
                     min_polls: int | None = None, confidence: float | None = None,
                     unstable: str | None = None) -> Verdict:
    """Assert that ``output`` passes a checklist: each item a YES/NO question judged on
    its own, the score the (weighted) share of items passed, ``threshold`` the share
    required (default 1.0: every item). With ``instruction=`` and no items, the judge
    writes the items for the instruction once; they are kept in a file beside the test
    (``name=`` tells several apart) and reused, so the bar does not move."""
    __tracebackhide__ = True
    try:
        session, item = running()
    except JudgeError as err:
        raise err.with_traceback(None) from None
    return run_checklist(session, item, output, items=items, instruction=instruction,
                         weights=weights, threshold=threshold, name=name,
                         where="assert_checklist()", policy_keywords=dict(
                             strategy=strategy, polls=polls, min_polls=min_polls,
                             confidence=confidence, unstable=unstable))


MARKER_KEYWORDS = ("threshold", "weights", "instruction", "name")


def marker_checklist(item: pytest.Item) -> dict[str, Any] | None:
    """The checked arguments of the test's ``llmjudge_checklist`` marker, or None."""
    marker = item.get_closest_marker(CHECKLIST_MARKER)
    if marker is None:
        return None
    where = f"@pytest.mark.{CHECKLIST_MARKER} on {item.nodeid}"
    unknown = sorted(set(marker.kwargs) - set(MARKER_KEYWORDS))
    if unknown:
        raise JudgeConfigError(
            f"{where}: unknown keyword(s) {', '.join(unknown)}; it takes the items, then "
            f"{', '.join(MARKER_KEYWORDS)} (polling goes in @pytest.mark.llmjudge)")
    keywords = dict(marker.kwargs)
    if marker.args:
        keywords["items"] = parse_items(list(marker.args), where)
        parse_weights(keywords.get("weights"), len(marker.args), where)
    elif keywords.get("instruction") is None:
        raise JudgeConfigError(
            f"{where}: the checklist is empty; list the items, e.g. "
            f"@pytest.mark.{CHECKLIST_MARKER}('Mentions the order number'), or give "
            "instruction=... to have the judge write them")
    parse_pass_rate(keywords.get("threshold"), where)
    return keywords


class ChecklistFixture:
    """``judge_checklist(reply)``: judges the reply against the test's checklist marker."""

    def __init__(self, session: JudgeSession, item: pytest.Item) -> None:
        self._session = session
        self._item = item
        self.calls = 0

    def __call__(self, output: object) -> Verdict:
        __tracebackhide__ = True
        try:
            keywords = marker_checklist(self._item)
            if keywords is None:
                raise JudgeConfigError(
                    f"{self._item.nodeid} uses judge_checklist but has no "
                    f"@pytest.mark.{CHECKLIST_MARKER}(...) listing the items; add the marker, "
                    "or call assert_checklist(reply, items=[...])")
        except JudgeError as err:
            raise err.with_traceback(None) from None
        self.calls += 1
        return run_checklist(self._session, self._item, output,
                             items=keywords.get("items"),
                             instruction=keywords.get("instruction"),
                             weights=keywords.get("weights"),
                             threshold=keywords.get("threshold"), name=keywords.get("name"),
                             where="judge_checklist()", policy_keywords={})
