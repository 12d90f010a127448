"""A judge request as a judgments export keeps it, so the drift check can ask it again.

The cache keys a call by hashes of what was sent; a new judge model or an edited
prompt template sends something else, so drift needs the request before it is laid out
into a prompt: the task, the criterion, the judged texts, the threshold, the policy,
and how the vote was read (the reply mode, P(YES) or the answer). That is this form,
one JSON object per call, written beside the call's line in an export.

``recorded_score`` reads a recorded reply the way the judge read it when it voted, so
the old score comes from the file, not from a judge that may no longer exist.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from ..backends.base import Completion
from ..errors import JudgeConfigError, JudgeReplyError
from .policy import Policy, make_policy
from .reply_formats import choice_value, parse_reply, reply_spec
from .verdict import JudgeRequest

MODES = ("direct", "logprob", "cot", "json")


def asked_json(request: JudgeRequest, mode: str, by_probability: bool,
               explains: bool = False) -> str:
    """``request`` as it was asked, in ``mode``, its vote read from P(YES) (or the
    expected rating) when ``by_probability``, else from the answer. ``explains``: the
    call wrote the reason for an answer already given (not a vote of its own)."""
    return json.dumps({
        **({"explains": True} if explains else {}),
        "task": request.task, "criterion": request.criterion, "output": request.output,
        "inputs": [list(pair) for pair in request.inputs],
        "shown": [list(pair) for pair in request.shown],
        "threshold": request.threshold, "scale": request.scale,
        "policy": request.policy.keywords(), "mode": mode,
        "scored": "probability" if by_probability else "answer",
    }, sort_keys=True, ensure_ascii=False)


@dataclass(frozen=True)
class Asked:
    request: JudgeRequest
    mode: str
    by_probability: bool
    explains: bool = False  # a reason written after the answer: no vote of its own


class AskedError(ValueError):
    """An ``asked`` object that is not a request this version can ask again."""


def parse_asked(data: Any) -> Asked:
    """The request an export line's ``asked`` object describes; AskedError says what
    is wrong with one that does not."""
    if not isinstance(data, dict):
        raise AskedError("not an object")
    strings = ("task", "criterion", "output", "mode")
    for name in strings:
        if not isinstance(data.get(name), str) or not data[name]:
            raise AskedError(f'"{name}" is not a non-empty string')
    if data["mode"] not in MODES:
        raise AskedError(f'"mode" {data["mode"]!r} is not one of {", ".join(MODES)}')
    threshold = data.get("threshold")
    if (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
            or not math.isfinite(threshold) or not 0 <= threshold <= 1):
        raise AskedError(f'"threshold" {threshold!r} is not a number in 0..1')
    scale = data.get("scale")
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, int)):
        raise AskedError(f'"scale" {scale!r} is not a whole number or null')
    pairs = {}
    for name in ("inputs", "shown"):
        value = data.get(name, [])
        if not isinstance(value, list) or not all(
                isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                and (isinstance(p[1], str) or (name == "inputs" and p[1] is None))
                for p in value):
            raise AskedError(f'"{name}" is not a list of [name, text] pairs')
        pairs[name] = tuple((p[0], p[1]) for p in value)
    policy = data.get("policy", {})
    if not isinstance(policy, dict):
        raise AskedError('"policy" is not an object')
    try:
        checked = make_policy(Policy(), policy, "its policy")
    except JudgeConfigError as err:
        raise AskedError(str(err)) from None
    if data.get("scored") not in ("probability", "answer"):
        raise AskedError('"scored" is not "probability" or "answer"')
    request = JudgeRequest(output=data["output"], criterion=data["criterion"],
                           threshold=float(threshold), task=data["task"],
                           inputs=pairs["inputs"], policy=checked, scale=scale,
                           shown=pairs["shown"])
    return Asked(request, data["mode"], data["scored"] == "probability",
                 data.get("explains") is True)


def recorded_score(asked: Asked, completion: Completion) -> float | None:
    """The vote the judge read from a recorded reply: P(YES) (or the expected rating)
    where it voted by probability, else 1 or 0 from its answer; None for a malformed
    reply (an attempt a retry replaced)."""
    request = asked.request
    spec = reply_spec(asked.mode, request.scale, pair=request.task == "pairwise",
                      reason=asked.mode != "direct")
    try:
        reply = parse_reply(completion.text, spec)
    except JudgeReplyError:
        return None
    if asked.by_probability:
        probs = completion.choice_probs.get("answer" if request.scale is None else "rating")
        if probs:
            total = sum(probs.values())
            if total > 0:
                return sum(p * choice_value(c, request.scale)
                           for c, p in probs.items()) / total
    return choice_value(reply.answer, request.scale)
