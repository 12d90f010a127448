"""Checklists (TICK): ``assert_checklist`` and the ``llmjudge_checklist`` marker; an
output judged item by item, each item a YES/NO question.

Items come from the test (``items=[...]`` or ``@pytest.mark.llmjudge_checklist``) or
are written by the judge for an instruction once and then frozen in a reviewable
file (storage/checklist_files.py), as the record mode allows. Each item is an
ordinary judged request (polled under the policy in effect), judged concurrently
where the backend allows; the checklist's score is the weighted share of items that
passed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..config.thresholds import parse_threshold
from ..errors import JudgeConfigError
from ..judging import composite, requests
from ..judging.judge import Judge, evaluate_many
from ..judging.verdict import JudgeRequest, Verdict
from ..session import JudgeSession, running
from ..storage.checklist_files import (
    ChecklistFile,
    checklist_path,
    legacy_checklist_path,
    parse_items,
    read,
    write,
)
from ..storage.record_modes import may_record, written_file_rule
from ._shared import conclude, plain_judge_errors, policy_and_threshold

CHECKLIST_MARKER = "llmjudge_checklist"
# The share of (weighted) items that must pass when the test says nothing: all of them.
DEFAULT_PASS_RATE = 1.0
MAX_ITEMS = 8  # TICK checklists are short; more items mostly repeat each other


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
    shown = instruction if isinstance(instruction, str) else None
    # The output, the policy and the pass rate are checked before the judge writes a
    # checklist: a bad argument must not cost a generation, or a file.
    policy, resolved = policy_and_threshold(session, item, None, where, policy_keywords)
    requests.checklist_item(output, "checked first", shown, resolved, policy)
    rate = parse_pass_rate(threshold, where)
    notes: list[str] = []
    extra = composite.Extra()
    if items is None:
        if instruction is None:
            raise JudgeConfigError(
                f"{where}: give the checklist, items=[...], or instruction=... to have "
                "the judge write one (kept in a file for review)")
        frozen = frozen_items(session, item, str(instruction), name, where)
        items, extra = frozen.items, frozen.extra
        notes.append(frozen.note)
    elif name is not None:
        raise JudgeConfigError(f"{where}: name= names a generated checklist's file; "
                               "it needs instruction= and no items=")
    checked = parse_items(items, where)
    weighed = parse_weights(weights, len(checked), where)
    asked = [requests.checklist_item(output, question, shown, resolved, policy)
             for question in checked]
    verdict = judge_items(session.judge, asked, weighed, rate, notes=notes, extra=extra,
                          started=started)
    session.record(item, verdict)
    return verdict, policy.unstable


def judge_items(judge: Judge, asked: Sequence[JudgeRequest], weights: Sequence[float],
                rate: float, *, notes: Sequence[str] = (),
                extra: composite.Extra = composite.NO_EXTRA,
                started: float | None = None) -> Verdict:
    """The checklist verdict on item requests (task ``checklist``), judged concurrently
    where the backend allows."""
    started = time.perf_counter() if started is None else started
    parts = evaluate_many(judge, asked)
    return composite.checklist(parts, weights, rate,
                             criterion=f"checklist of {len(asked)} items",
                             output=asked[0].output,
                             latency_s=time.perf_counter() - started, notes=notes,
                             extra=extra)


def run_checklist(session: JudgeSession, item: pytest.Item | None, output: object, *,
                  where: str, **arguments: Any) -> Verdict:
    """checklist_verdict, asserted (the core of assert_checklist and judge_checklist)."""
    __tracebackhide__ = True
    with plain_judge_errors():
        verdict, unstable = checklist_verdict(session, item, output, where=where, **arguments)
    return conclude(verdict, unstable)


def assert_checklist(output: object, *, items: Sequence[str] | None = None,
                     instruction: str | None = None, weights: Sequence[float] | None = None,
                     threshold: float | None = None, name: str | None = None,
                     strategy: str | None = None, polls: int | None = None,
                     min_polls: int | None = None, confidence: float | None = None,
                     unstable: str | None = None,
        reasons: str | None = None) -> Verdict:
    """Assert that ``output`` passes a checklist: each item a YES/NO question judged on
    its own, the score the (weighted) share of items passed, ``threshold`` the share
    required (default 1.0: every item). With ``instruction=`` and no items, the judge
    writes the items for the instruction once; they are kept in a file beside the test
    (``name=`` tells several apart) and reused, so the bar does not move."""
    __tracebackhide__ = True
    with plain_judge_errors():
        session, item = running()
    return run_checklist(session, item, output, items=items, instruction=instruction,
                         weights=weights, threshold=threshold, name=name,
                         where="assert_checklist()", policy_keywords=dict(
                             strategy=strategy, polls=polls, min_polls=min_polls,
                             confidence=confidence, unstable=unstable, reasons=reasons))


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


@dataclass(frozen=True)
class Frozen:
    items: tuple[str, ...]
    note: str  # where the items came from, for the failure message and the report
    extra: composite.Extra = field(default_factory=composite.Extra)


def frozen_items(session: JudgeSession, item: pytest.Item | None, instruction: str,
                 name: object, where: str) -> Frozen:
    """The items for ``instruction``: from its file, or written by the judge, as the
    record mode allows (the same rule as for a recorded judge call)."""
    if item is None:
        raise JudgeConfigError(f"{where}: a generated checklist is kept beside its test; "
                               "call it from a running test")
    settings = session.settings
    mode = settings.record_mode
    rule = written_file_rule(mode, settings.update_checklists)
    path = checklist_path(Path(item.path), item.nodeid, item.name, name)
    claimed = session.checklist_files.setdefault(str(path), instruction)
    if claimed != instruction:
        raise JudgeConfigError(
            f"{where}: two generated checklists with different instructions in "
            f"{item.nodeid} would share {path}; give each one a name=")
    if rule.reuse:
        stored = read(path)
        legacy = legacy_checklist_path(Path(item.path), item.nodeid, item.name, name)
        if stored is None and legacy is not None:
            # Written before file names carried a hash: several parametrized tests may
            # share it, so it serves this test only if it answers the same instruction.
            old = read(legacy)
            if old is not None and old.instruction == instruction:
                if rule.keep:
                    write(path, old)
                return Frozen(old.items, f"checklist from {legacy}")
        if stored is not None and stored.instruction == instruction:
            return Frozen(stored.items, f"checklist from {path}")
        if not may_record(mode, stored is not None):
            problem = ("there is no checklist file" if stored is None else
                       "the checklist file was written for a different instruction")
            raise JudgeConfigError(
                f"{where}: {problem} {path} for {item.nodeid}, and record mode {mode!r} "
                "does not let the judge write one. Run once with "
                "--llmjudge-update-checklists, review the file and commit it")
    from ..judging.written_lists import write_list

    written = write_list(session.judge, "checklist", instruction, max_items=MAX_ITEMS,
                         what="checklist items")
    extra = composite.Extra(written.prompt_tokens, written.completion_tokens,
                            written.attempts, replayed=written.replayed,
                            dry_run=written.dry_run)
    if written.dry_run:  # a placeholder list: never written to a file for review
        return Frozen(written.items, "checklist not written: dry run", extra)
    if not rule.keep:
        return Frozen(written.items, "checklist written by the judge for this run only "
                                     "(record mode off)", extra)
    write(path, ChecklistFile(instruction, written.items,
                              f"{written.judge_id} {written.prompt_version}"))
    return Frozen(written.items, f"checklist written by the judge to {path}; review it "
                                 "and commit it", extra)
