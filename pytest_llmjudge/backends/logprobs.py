"""Reading an OpenAI-format chat completion: the reply text, token usage, and the
choice probabilities from ``top_logprobs`` at the position where a choice value starts.
Knows nothing about HTTP or retries."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import JudgeReplyError
from .base import ChoiceField, Completion, ReplySpec


def completion_from(response: Any, reply: ReplySpec, cost: float | None) -> Completion:
    try:
        choice = response.choices[0]
        text = choice.message.content or ""
        usage = getattr(response, "usage", None)
    except (AttributeError, IndexError, TypeError) as err:
        raise JudgeReplyError(f"the server's reply has no message content ({err})") from None
    probs: dict[str, dict[str, float]] = {}
    tokens = _logprob_tokens(getattr(choice, "logprobs", None))
    if tokens:
        for field in reply.fields:
            if isinstance(field, ChoiceField):
                found = _choice_probs(text, field, tokens)
                if found:
                    probs[field.name] = found
    return Completion(
        text=text,
        choice_probs=probs,
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        cost_usd=cost,
    )


def _logprob_tokens(logprobs: Any) -> list[tuple[str, list[tuple[str, float]]]]:
    content = getattr(logprobs, "content", None)
    if content is None and isinstance(logprobs, Mapping):
        content = logprobs.get("content")
    out: list[tuple[str, list[tuple[str, float]]]] = []
    for item in content or []:
        token = getattr(item, "token", None)
        tops = getattr(item, "top_logprobs", None) or []
        if token is None:
            return []
        out.append((token, [(t.token, _logprob(t.logprob)) for t in tops]))
    return out


# A log-probability rounded by a server may come back a hair above 0.
LOGPROB_SLACK = 1e-4


def _logprob(value: Any) -> float:
    """A top logprob as a number, refused where it cannot be one: not a finite number of
    at most 0 (exp of 1000 overflows; a positive one is a probability above 1)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number <= LOGPROB_SLACK):
        raise JudgeReplyError(
            f"the server's reply holds the top logprob {str(value)[:40]!r}, which is not a "
            "finite number of at most 0, so no probability can be read from it; the server "
            "is misbehaving: check its version, or set llmjudge_api_logprobs=false to poll "
            "votes instead (chainpoll)")
    return min(number, 0.0)


def _choice_probs(text: str, field: ChoiceField,
                  tokens: Sequence[tuple[str, list[tuple[str, float]]]]) -> dict[str, float]:
    """P(choice) at the token where the field's value starts, from the top logprobs the
    server returned; empty when that position or every choice is missing from them."""
    try:
        start = _value_start(text, field.name)
    except ValueError:
        return {}
    position = 0
    for token, tops in tokens:
        if position + len(token) > start:
            lead = text[position:start]  # part of the token before the value (a quote)
            mass = dict.fromkeys(field.spellings, 0.0)
            for alternative, logprob in tops:
                if not alternative.startswith(lead):
                    continue
                piece = alternative[len(lead):].strip().lower()
                if not piece:
                    continue
                owners = [c for c, spellings in field.spellings.items()
                          if any(s.lower().startswith(piece) or piece.startswith(s.lower())
                                 for s in spellings)]
                if len(owners) == 1:
                    mass[owners[0]] += math.exp(logprob)
            total = sum(mass.values())
            return {c: m / total for c, m in mass.items()} if total > 0 else {}
        position += len(token)
    return {}


def _value_start(text: str, name: str) -> int:
    """Index of the first character of the string value of ``name`` in a JSON text."""
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get(name), str):
        raise ValueError(name)
    key = text.index(json.dumps(name))
    colon = text.index(":", key + len(json.dumps(name)))
    return text.index('"', colon) + 1
