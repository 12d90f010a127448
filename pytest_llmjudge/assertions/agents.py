"""Conversations and agents: a transcript judged turn by turn or whole, its claims
grounded in the tool results, and its tool calls matched by rule (free and exact)
or judged where several paths are valid.

- ``assert_each_turn``: every turn of a role judged in context (the turns before it).
- ``assert_retains_knowledge``, ``assert_follows_role``, ``assert_goal_met``: the
  ready-made conversation checks, each with its own versioned prompt.
- ``assert_grounded`` on a conversation (assertions/judged.py calls ``grounded_turns``):
  each assistant turn's claims against the context, and the tool results and what
  the user said before it.
- ``assert_tool_calls``: the calls made against the expected ones, by rule; arguments
  compared by the judge only with ``args="judged"``.
- ``assert_trajectory_judged``: the whole path judged, against a reference if given.
- ``judge_tools(transcript)``: the test's ``@pytest.mark.llmjudge_tools`` matched.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import pytest

from ..config.thresholds import Threshold
from ..errors import ContextOverflowError, JudgeConfigError
from ..judging import composite, requests, turns
from ..judging.judge import evaluate_many
from ..judging.policy import Policy
from ..judging.tool_calls import (
    ANY_ARGS,
    MISSING,
    ArgsRule,
    Match,
    actual_calls,
    argument_differences,
    expected_calls,
    match,
    parse_args_mode,
    parse_order,
    trajectory_of,
)
from ..judging.transcripts import (
    ROLES,
    Transcript,
    parse_transcript,
)
from ..judging.verdict import JudgeRequest, Verdict
from ..masking import mask
from ..reporting.failure import printable
from ..session import JudgeSession, running
from ._shared import conclude, plain_judge_errors, policy_and_threshold

TOOLS_MARKER = "llmjudge_tools"
TOOLS_MARKER_KEYWORDS = ("expected", "order", "args", "threshold")


class ToolCallMismatch(AssertionError):
    """The tool calls made do not match the expected ones; carries the Match."""

    def __init__(self, result: Match) -> None:
        self.match = result
        # Masked: a call's arguments may hold a key, and CI logs are kept.
        super().__init__(printable(mask("\n".join(result.explain()))))


ToolCallMismatch.__module__ = "pytest_llmjudge"


def assert_each_turn(conversation: object, criteria: str, *, role: str = "assistant",
                     threshold: float | None = None, strategy: str | None = None,
                     polls: int | None = None, min_polls: int | None = None,
                     confidence: float | None = None, unstable: str | None = None,
                     reasons: str | None = None) -> Verdict:
    """Assert that every ``role`` turn with text meets ``criteria``, each judged with the
    turns before it as its context. A failure names each failing turn, its index and
    its text; every turn is a part of the verdict. On a local judge each turn's prompt
    starts with the one before it, so its KV cache re-reads only the new turns."""
    __tracebackhide__ = True
    where = "assert_each_turn()"
    with plain_judge_errors():
        if role not in ROLES:
            raise JudgeConfigError(f"{where}: role={role!r} is not one of {', '.join(ROLES)}")
        transcript = parse_transcript(conversation, where, judged_role=role)
        session, item = running()
        policy, resolved = policy_and_threshold(session, item, threshold, where, dict(
            strategy=strategy, polls=polls, min_polls=min_polls, confidence=confidence,
            unstable=unstable, reasons=reasons))
        verdict = _fitting(functools.partial(turns.judge_each_turn, session.judge, transcript,
                                             criteria, role, resolved, policy), where)
        session.record(item, verdict)
    return conclude(verdict, policy.unstable)


def assert_retains_knowledge(conversation: object, *, threshold: float | None = None,
                             strategy: str | None = None, polls: int | None = None,
                             min_polls: int | None = None, confidence: float | None = None,
                             unstable: str | None = None,
                             reasons: str | None = None) -> Verdict:
    """Assert that the assistant never asks again for what the user already said (nor
    contradicts it): knowledge retention, judged over the whole conversation."""
    __tracebackhide__ = True
    return _whole("assert_retains_knowledge()", conversation, requests.retention, threshold,
                  dict(strategy=strategy, polls=polls, min_polls=min_polls,
                       confidence=confidence, unstable=unstable, reasons=reasons))


def assert_follows_role(conversation: object, *, system_prompt: str | None = None,
                        threshold: float | None = None, strategy: str | None = None,
                        polls: int | None = None, min_polls: int | None = None,
                        confidence: float | None = None, unstable: str | None = None,
                        reasons: str | None = None) -> Verdict:
    """Assert that every assistant turn keeps to the role and rules of
    ``system_prompt`` (by default, the conversation's own system message)."""
    __tracebackhide__ = True
    where = "assert_follows_role()"

    def build(transcript: Transcript, threshold: Threshold, policy: Policy) -> JudgeRequest:
        shown = system_prompt
        if shown is None:
            system = [t.content for t in transcript.turns if t.role in ("system", "developer")]
            if not system:
                raise JudgeConfigError(
                    f"{where}: the conversation has no system message, so there is no role "
                    "to keep to; pass system_prompt=... with the app's instructions")
            shown = "\n\n".join(system)
        elif not isinstance(shown, str) or not shown.strip():
            raise JudgeConfigError(f"{where}: system_prompt must be a non-empty str, got "
                                   f"{shown!r}")
        return requests.role(transcript, shown, threshold, policy)

    return _whole(where, conversation, build, threshold, dict(
        strategy=strategy, polls=polls, min_polls=min_polls, confidence=confidence,
        unstable=unstable, reasons=reasons))


def assert_goal_met(conversation: object, *, goal: str, threshold: float | None = None,
                    strategy: str | None = None, polls: int | None = None,
                    min_polls: int | None = None, confidence: float | None = None,
                    unstable: str | None = None, reasons: str | None = None) -> Verdict:
    """Assert that by its end the conversation achieved ``goal`` (done or given, not only
    promised), e.g. ``goal="The user gets a refund for the broken kettle"``."""
    __tracebackhide__ = True
    where = "assert_goal_met()"
    if not isinstance(goal, str) or not goal.strip():
        with plain_judge_errors():
            raise JudgeConfigError(f"{where}: goal must be a non-empty str, got {goal!r}")
    return _whole(where, conversation,
                  lambda t, th, p: requests.goal(t, goal, th, p), threshold, dict(
                      strategy=strategy, polls=polls, min_polls=min_polls,
                      confidence=confidence, unstable=unstable, reasons=reasons))


def assert_trajectory_judged(transcript: object, criteria: str, *,
                             reference: object = None, threshold: float | None = None,
                             strategy: str | None = None, polls: int | None = None,
                             min_polls: int | None = None, confidence: float | None = None,
                             unstable: str | None = None,
                             reasons: str | None = None) -> Verdict:
    """Assert that the agent's path (its transcript, or its list of tool calls) meets
    ``criteria``, judged whole: for when several paths are valid and a rule would be
    too strict. With ``reference`` (a transcript or a list of calls), the judge asks
    whether the agent reached the same outcome by as reasonable a path."""
    __tracebackhide__ = True
    where = "assert_trajectory_judged()"
    with plain_judge_errors():
        shown_reference = None if reference is None else trajectory_of(
            reference, f"{where}: reference")
    return _whole(where, transcript,
                  lambda t, th, p: requests.trajectory(t, criteria, shown_reference, th, p),
                  threshold, dict(strategy=strategy, polls=polls, min_polls=min_polls,
                                  confidence=confidence, unstable=unstable, reasons=reasons),
                  parse=lambda value: trajectory_of(value, where))


def _whole(where: str, conversation: object,
           build: Callable[[Transcript, Threshold, Policy], JudgeRequest],
           threshold: object, policy_keywords: dict[str, Any],
           parse: Callable[[object], Transcript] | None = None) -> Verdict:
    """One judgment of a whole conversation: build, judge, record, conclude."""
    __tracebackhide__ = True
    with plain_judge_errors():
        transcript = (parse(conversation) if parse else
                      parse_transcript(conversation, where, judged_role="assistant"))
        session, item = running()
        policy, resolved = policy_and_threshold(session, item, threshold, where,
                                                policy_keywords)
        request = build(transcript, resolved, policy)
        verdict = _fitting(lambda: session.evaluate(item, request), where)
    return conclude(verdict, request.policy.unstable)


def _fitting(judge: Callable[[], Any], where: str) -> Any:
    """``judge()``, with a conversation too long for the judge's context explained."""
    try:
        return judge()
    except ContextOverflowError as err:
        advice = ("a turn's prompt holds every turn before it, so judge a shorter stretch of "
                  "the conversation, or use a judge with a longer context"
                  if where == "assert_each_turn()" else
                  "a whole conversation is one prompt; judge it turn by turn with "
                  "assert_each_turn(conversation, criteria), where each turn's prompt holds "
                  "only the turns before it, or use a judge with a longer context")
        raise ContextOverflowError(f"{where}: {err}. {advice}") from None


def grounded_turns(session: JudgeSession, item: pytest.Item | None, conversation: object,
                   context: str | None, question: str | None, mode: str,
                   threshold: Threshold, policy: Policy, where: str) -> Verdict:
    """``assert_grounded`` on a conversation (judging/turns.py), recorded."""
    transcript = parse_transcript(conversation, where, judged_role="assistant")
    verdict: Verdict = _fitting(functools.partial(
        turns.judge_grounded_turns, session.judge, transcript, context, question, mode,
        threshold, policy, where), where)
    session.record(item, verdict)
    return verdict


def assert_tool_calls(actual: object, expected: object, *, order: str = "strict",
                      args: str | ArgsRule = "exact", threshold: float | None = None,
                      strategy: str | None = None, polls: int | None = None,
                      min_polls: int | None = None, confidence: float | None = None,
                      unstable: str | None = None, reasons: str | None = None) -> Match:
    """Assert that the tool calls made (a transcript, a list of tool-call dicts, or
    OpenAI tool_call objects) match ``expected`` (a list of ``{"name": ..., "args":
    {...}}``, args optional) under ``order`` (strict, unordered, subset, superset) and
    ``args`` (exact, ignore, a function ``(actual_args, expected_args) -> bool``, or
    judged). Deterministic, no judge call, except ``args="judged"``: there each argument
    whose value differs is judged by meaning ("next Tuesday" against "2026-12-08"),
    one judged part per argument. A mismatch fails with a diff: the expected call
    missing, the unexpected call, the argument that differs with both values."""
    __tracebackhide__ = True
    where = "assert_tool_calls()"
    with plain_judge_errors():
        chosen_order = parse_order(order, where)
        mode = parse_args_mode(args, where)
        made = actual_calls(actual, where)
        wanted = expected_calls(expected, where)
        result = match(made, wanted, chosen_order, mode)
        if result.passed and mode == "judged":
            result = _judged_arguments(result, where, threshold, dict(
                strategy=strategy, polls=polls, min_polls=min_polls, confidence=confidence,
                unstable=unstable, reasons=reasons))
    if not result.passed:
        raise ToolCallMismatch(result)
    return result


def _judged_arguments(result: Match, where: str, threshold: object,
                      policy_keywords: dict[str, Any]) -> Match:
    """The paired calls' arguments: a missing or extra argument is a difference by rule;
    each value that differs is judged by meaning. The verdict is recorded and
    concluded like any other (a failure is a JudgeAssertionError listing them)."""
    __tracebackhide__ = True
    started = time.perf_counter()
    asked: list[JudgeRequest] = []
    session, item = running()
    policy, resolved = policy_and_threshold(session, item, threshold, where, policy_keywords)
    for e, a in result.pairs:
        wanted, made = result.expected[e], result.actual[a]
        if wanted.args is ANY_ARGS:
            continue
        differences = argument_differences(wanted.args, made.args)
        absent = [d for d in differences if MISSING in (d.expected, d.actual)]
        if absent or not isinstance(made.args, dict):
            result.differing.append((e, a, absent or differences))
            continue
        asked += [requests.argument(made.name, d.name, d.expected, d.actual, resolved, policy)
                  for d in differences]
    if result.differing or not asked:
        return result
    parts = evaluate_many(session.judge, asked)
    verdict = composite.every(
        parts, "argument", criterion="each argument means the expected value",
        output="\n".join(c.signature() for c in result.actual),
        latency_s=time.perf_counter() - started)
    session.record(item, verdict)
    result.verdict = conclude(verdict, policy.unstable)
    return result


def marker_tools(item: pytest.Item) -> dict[str, Any] | None:
    """The checked arguments of the test's ``llmjudge_tools`` marker, or None."""
    marker = item.get_closest_marker(TOOLS_MARKER)
    if marker is None:
        return None
    where = f"@pytest.mark.{TOOLS_MARKER} on {item.nodeid}"
    unknown = sorted(set(marker.kwargs) - set(TOOLS_MARKER_KEYWORDS))
    if marker.args or unknown:
        raise JudgeConfigError(
            f"{where}: it takes keywords only, {', '.join(TOOLS_MARKER_KEYWORDS)}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""))
    if "expected" not in marker.kwargs:
        raise JudgeConfigError(f"{where}: give the expected calls, expected=[{{'name': ..., "
                               "'args': {...}}, ...]")
    keywords = dict(marker.kwargs)
    expected_calls(keywords["expected"], where)
    parse_order(keywords.get("order", "strict"), where)
    parse_args_mode(keywords.get("args", "exact"), where)
    return keywords


class ToolsFixture:
    """``judge_tools(transcript)``: the calls in the transcript matched against the
    test's ``@pytest.mark.llmjudge_tools(expected=[...])``."""

    def __init__(self, item: pytest.Item) -> None:
        self._item = item
        self.calls = 0

    def __call__(self, transcript: object) -> Match:
        __tracebackhide__ = True
        with plain_judge_errors():
            keywords = marker_tools(self._item)
            if keywords is None:
                raise JudgeConfigError(
                    f"{self._item.nodeid} uses judge_tools but has no "
                    f"@pytest.mark.{TOOLS_MARKER}(expected=[...]); add the marker, or call "
                    "assert_tool_calls(transcript, expected=[...])")
        self.calls += 1
        return assert_tool_calls(transcript, keywords["expected"],
                                 order=keywords.get("order", "strict"),
                                 args=keywords.get("args", "exact"),
                                 threshold=keywords.get("threshold"))


__all__ = ["ToolCallMismatch", "ToolsFixture", "assert_each_turn", "assert_follows_role",
           "assert_goal_met", "assert_retains_knowledge", "assert_tool_calls",
           "assert_trajectory_judged", "grounded_turns", "marker_tools"]
