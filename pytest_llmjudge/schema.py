"""The judge's reply format, and its validation.

Replies are parsed as JSON and validated with jsonschema, never scraped with a
regex: a reply that does not fit is an error, not a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .backends.base import ChoiceField, ReplySpec, TextField
from .errors import JudgeReplyError

REASON_MAX_CHARS = 400

# Field order matters: the judge commits to its answer first, so P(YES) is read from
# a single forward pass over the prompt, and the reason explains that answer rather
# than being a long chain of thought (measured slower and less accurate on small
# judges, see PRODUCT.md). Probability for "Yes"/"yes" counts towards YES.
VERDICT_REPLY = ReplySpec(
    fields=(
        ChoiceField("answer", {"YES": ("YES", "Yes", "yes"), "NO": ("NO", "No", "no")}),
        TextField("reason", {"type": "string", "minLength": 1, "maxLength": REASON_MAX_CHARS}),
    )
)
VERDICT_SCHEMA: dict[str, Any] = VERDICT_REPLY.json_schema()


@dataclass(frozen=True)
class JudgeReply:
    answer: str
    reason: str


def parse_reply(text: str, schema: dict[str, Any] = VERDICT_SCHEMA) -> JudgeReply:
    """Parse and validate one raw judge reply; raise JudgeReplyError saying what was wrong."""
    import jsonschema  # deferred: keeps plugin import cheap

    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise JudgeReplyError(
            f"judge reply is not JSON ({err.msg} at character {err.pos}): {_clip(text)}"
        ) from None
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "the top level"
        raise JudgeReplyError(
            f"judge reply does not fit the verdict schema at {where}: {err.message}; "
            f"reply was {_clip(text)}"
        ) from None
    return JudgeReply(answer=data["answer"], reason=data["reason"].strip())


def _clip(text: str, limit: int = 200) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
