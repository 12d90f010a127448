"""A conversation judged turn by turn: each turn of a role against a criterion, with the
turns before it as its context, or each assistant turn's claims against the evidence
before it. Pure judging (assertions/agents.py records and asserts)."""

from __future__ import annotations

import dataclasses
import json
import time

from ..config.thresholds import Threshold
from ..errors import JudgeConfigError
from . import composite, requests
from .judge import Judge, evaluate_many
from .policy import Policy
from .transcripts import Transcript, canonical_json
from .verdict import Verdict


def judge_each_turn(judge: Judge, transcript: Transcript, criteria: object, role: str,
                    threshold: Threshold, policy: Policy) -> Verdict:
    """Every ``role`` turn with text judged in order: on a local judge each turn's prompt
    starts with the one before it, so the KV cache serves all but the new turns."""
    started = time.perf_counter()
    judged = [t for t in transcript.of_role(role) if t.content]
    asked = [requests.turn(transcript, t.index, criteria, threshold, policy) for t in judged]
    skipped = len(transcript.of_role(role)) - len(judged)
    notes = [f"{skipped} {role} turn(s) that only call tools are not judged here "
             "(assert_tool_calls checks calls)"] if skipped else []
    parts = evaluate_many(judge, asked)
    return composite.every(parts, "turn", criterion=asked[0].criterion,
                           output=transcript.canonical,
                           latency_s=time.perf_counter() - started, notes=notes)


def judge_grounded_turns(judge: Judge, transcript: Transcript, context: str | None,
                         question: str | None, mode: str, threshold: Threshold,
                         policy: Policy, where: str) -> Verdict:
    """Each assistant turn with text, its claims judged (judging/claims.py, ``mode``)
    against the evidence before it: ``context``, the tool results and what the user
    said. A tool result is evidence; a claim made before the tool
    answered is not supported by it."""
    from .claims import judge_grounded

    started = time.perf_counter()
    parts = []
    for turn in transcript.of_role("assistant"):
        if not turn.content:
            continue
        evidence = evidence_before(transcript, turn.index, context)
        if evidence is None:
            raise JudgeConfigError(
                f"{where}: assistant turn {turn.index} makes claims, but nothing before it "
                "can support them (no context=, tool result or user turn)")
        asked = question if question is not None else last_user_turn(transcript, turn.index)
        verdict = judge_grounded(judge, requests.grounded(turn.content, evidence, asked,
                                                          threshold, policy), mode)
        parts.append(dataclasses.replace(verdict, output=canonical_json(
            [{**turn.canonical(), "turn": turn.index}])))
    return composite.every(parts, "turn", criterion=requests.GROUNDED_CRITERION,
                           output=transcript.canonical,
                           latency_s=time.perf_counter() - started)


def evidence_before(transcript: Transcript, index: int, context: str | None) -> str | None:
    """What supports a claim in turn ``index``: the context, then the tool results and
    the user's turns before it, each labelled; None if nothing."""
    pieces = [f"Context:\n{context}"] if context else []
    for turn in transcript.turns[:index]:
        # The system prompt is left out: it instructs, it does not attest facts
        # (measured on the example agent, it pulled claims' scores down); facts a
        # system prompt gives are passed as context=.
        if turn.role == "user":
            pieces.append(f"The user said:\n{turn.content}")
        elif turn.role == "tool":
            call = next((c for t in transcript.turns[:turn.index] for c in t.tool_calls
                         if c.id == turn.tool_call_id), None)
            called = call.signature() if call else turn.name or "a tool"
            pieces.append(f"The assistant called the tool {called}, which returned:\n"
                          f"{readable(turn.content)}")
    return "\n\n".join(pieces) or None


def readable(content: str) -> str:
    """A tool result as a small judge reads it best: a JSON object as ``key: value``
    lines, a list of objects one line each; anything else as it is. (Inside the
    grounded prompt the evidence is one JSON string, where raw JSON turns into a wall
    of escaped quotes.)"""
    try:
        value = json.loads(content)
    except ValueError:
        return content

    def line(item: object) -> str:
        if isinstance(item, dict):
            return "; ".join(f"{k}: {v if isinstance(v, str) else json.dumps(v)}"
                             for k, v in item.items())
        return item if isinstance(item, str) else json.dumps(item)

    if isinstance(value, list):
        return "\n".join(f"- {line(item)}" for item in value)
    return line(value)


def last_user_turn(transcript: Transcript, index: int) -> str | None:
    users = [t.content for t in transcript.turns[:index] if t.role == "user"]
    return users[-1] if users else None
