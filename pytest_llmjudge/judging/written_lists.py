"""Texts the judge writes instead of grading: the items of a checklist (TICK) and the
claims of an answer. Each is one call for a JSON list of strings, validated like a
verdict reply and retried the same way; an empty list is an error, never a pass."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..backends.base import ReplySpec, TextField
from ..errors import JudgeReplyError
from .prompts import load, untrusted_tag

if TYPE_CHECKING:
    from .judge import Judge

WRITE_PROMPTS = {"checklist": "checklist_write.v1", "claims": "claims_write.v1"}
ITEM_MAX_CHARS = 240
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Written:
    items: tuple[str, ...]
    judge_id: str
    prompt_version: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    attempts: int
    replayed: bool = False
    dry_run: bool = False


def list_spec(max_items: int) -> ReplySpec:
    return ReplySpec(fields=(TextField("items", {
        "type": "array",
        "items": {"type": "string", "minLength": 1, "maxLength": ITEM_MAX_CHARS},
        "minItems": 1,
        "maxItems": max_items,
    }),))


def write_list(judge: Judge, task: str, text: str, *, max_items: int, what: str) -> Written:
    """Have the judge write the ``task`` list (checklist questions for an instruction,
    claims of a response) for ``text``. ``what`` names the items in errors."""
    template = load(WRITE_PROMPTS[task], "list")
    shown = json.dumps(text, ensure_ascii=False)
    messages = template.render(output=shown, tag=untrusted_tag(text), max_items=str(max_items))
    spec = list_spec(max_items)

    def validate(reply: str) -> tuple[str, ...]:
        return clean_items(reply, spec, what)

    call = judge.call(messages, (shown,), spec, validate, prompt=template.version, index=0,
                      sampled=False, need_probs=False, max_tokens=judge.settings.max_tokens * 3)
    return Written(call.value, judge.backend.judge_id, template.version, call.prompt_tokens,
                   call.completion_tokens, call.busy_s, call.attempts,
                   call.replayed == call.attempts, call.dry_run)


def clean_items(reply: str, spec: ReplySpec, what: str) -> tuple[str, ...]:
    """The reply's items, whitespace collapsed, blanks and repeats (ignoring case) dropped."""
    import jsonschema

    from .reply_formats import clip_reply, refuse_oversized, schema_message

    refuse_oversized(reply)
    try:
        data = json.loads(reply)
        jsonschema.validate(data, spec.json_schema())
    except (json.JSONDecodeError, jsonschema.ValidationError) as err:
        message = err.msg if isinstance(err, json.JSONDecodeError) else err.message
        raise JudgeReplyError(
            f"the judge's list of {what} does not fit the schema "
            f"({schema_message(message)}); reply was {clip_reply(reply)}"
        ) from None
    items: list[str] = []
    seen: set[str] = set()
    for raw in data["items"]:
        item = _SPACE.sub(" ", raw).strip()
        if item and item.casefold() not in seen:
            seen.add(item.casefold())
            items.append(item)
    if not items:
        raise JudgeReplyError(
            f"the judge wrote zero {what} (reply {clip_reply(reply)}); nothing could be checked"
        )
    return tuple(items)
