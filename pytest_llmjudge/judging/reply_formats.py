"""The judge's reply formats, and their validation.

Replies are parsed as JSON and validated with jsonschema, never scraped with a
regex: a reply that does not fit is an error, not a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..backends.base import ChoiceField, ReplyField, ReplySpec, TextField
from ..errors import JudgeReplyError

REASON_MAX_CHARS = 400
# Long enough for a few steps of checking, short enough that a rambling small judge
# is cut off by the grammar (which closes the string) rather than by the token budget.
REASONING_MAX_CHARS = 480

ANSWER = ChoiceField("answer", {"YES": ("YES", "Yes", "yes"), "NO": ("NO", "No", "no")})

# Direct mode: the judge commits to its answer first, so P(YES) is read from a single
# forward pass over the prompt, and the reason explains that answer rather than being
# a chain of thought. Probability for "Yes"/"yes" counts towards YES.
DIRECT_REPLY = ReplySpec(fields=(
    ANSWER,
    TextField("reason", {"type": "string", "minLength": 1, "maxLength": REASON_MAX_CHARS}),
))
# Chain-of-thought mode (ChainPoll): the reasoning comes first and the answer, read at
# its position, is conditioned on it.
COT_REPLY = ReplySpec(fields=(
    TextField("reasoning", {"type": "string", "minLength": 1,
                            "maxLength": REASONING_MAX_CHARS}),
    ANSWER,
))
REPLIES = {"direct": DIRECT_REPLY, "cot": COT_REPLY}
# A pairwise judgment names the better response: "A" is worth 1 (the first shown wins),
# so its score is P(A) and every strategy works on it unchanged.
PAIR = ChoiceField("answer", {"A": ("A",), "B": ("B",)})
SCALE_POINTS = range(3, 10)  # "10" would share its first token with "1"


def rating_field(points: int) -> ChoiceField:
    """A Likert rating "1".."points", written as a string so it is read like an answer."""
    return ChoiceField("rating", {str(i): (str(i),) for i in range(1, points + 1)})


def reply_spec(mode: str, scale: int | None = None, pair: bool = False, *,
               reason: bool = True) -> ReplySpec:
    """The reply format for a mode, with a YES/NO answer, a rating (``scale``) or the
    better of two responses (``pair``: A or B). ``reason=False`` (direct mode only):
    the answer alone, the reply closed right after it. The prompt still asks for the
    reason, so the answer is read at the same position with the same text before it,
    and a reason asked for later (``explaining``) continues the same sequence."""
    spec = REPLIES[mode]
    if scale is not None or pair:
        choice = PAIR if pair else rating_field(scale or 0)
        spec = ReplySpec(fields=tuple(choice if f is ANSWER else f for f in spec.fields))
    if not reason:
        if mode != "direct":
            raise ValueError("only a direct reply can be cut after its answer")
        spec = ReplySpec(fields=spec.fields[:1])
    return spec


def explaining(spec: ReplySpec, answer: str) -> ReplySpec:
    """``spec`` with its choice field held to ``answer``: the reply that writes the
    reason for an answer already decided (a grammar, or a remote server's JSON schema,
    leaves the judge no other answer to write)."""
    fields: list[ReplyField] = []
    for f in spec.fields:
        if isinstance(f, ChoiceField):
            f = ChoiceField(f.name, {answer: f.spellings[answer]})
        fields.append(f)
    return ReplySpec(fields=tuple(fields))


def choice_value(answer: str, scale: int | None = None) -> float:
    """What an answer is worth on the 0..1 score: YES 1, NO 0; A 1, B 0; rating r of n
    (r-1)/(n-1)."""
    if scale is None:
        return 1.0 if answer in ("YES", "A") else 0.0
    return (int(answer) - 1) / (scale - 1)


# Kept for callers that validate a direct reply.
VERDICT_REPLY = DIRECT_REPLY
VERDICT_SCHEMA: dict[str, Any] = DIRECT_REPLY.json_schema()


@dataclass(frozen=True)
class JudgeReply:
    answer: str
    reason: str


# No reply a judge writes within llmjudge_max_tokens comes near this; a server that
# ignores the limit is refused before its reply is parsed, with the length in the error.
MAX_REPLY_CHARS = 100_000


def parse_reply(text: str, spec: ReplySpec = DIRECT_REPLY) -> JudgeReply:
    """Parse and validate one raw judge reply; raise JudgeReplyError saying what was wrong."""
    refuse_oversized(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise JudgeReplyError(
            f"judge reply is not JSON ({err.msg} at character {err.pos}): {clip_reply(text)}"
        ) from None
    except (ValueError, RecursionError) as err:  # a 5,000-digit number, deep nesting
        raise JudgeReplyError(f"judge reply is not usable JSON ({type(err).__name__}: "
                              f"{str(err)[:100]}): {clip_reply(text)}") from None
    if fits(data, spec):
        return _reply(data, spec)
    import jsonschema  # deferred: only a reply the quick check refuses needs it

    try:
        jsonschema.validate(data, spec.json_schema())
    except jsonschema.ValidationError as err:
        where = "/".join(str(p) for p in err.absolute_path) or "the top level"
        raise JudgeReplyError(
            f"judge reply does not fit the verdict schema at {where}: "
            f"{schema_message(err.message)}; reply was {clip_reply(text)}"
        ) from None
    return _reply(data, spec)


def _reply(data: dict[str, Any], spec: ReplySpec) -> JudgeReply:
    text_field = next((f.name for f in spec.fields if isinstance(f, TextField)), None)
    choice = next(f.name for f in spec.fields if isinstance(f, ChoiceField))
    # An answer-only reply has no reason: "" here, explained by the verdict's note.
    reason = data[text_field].strip() if text_field is not None else ""
    return JudgeReply(answer=data[choice], reason=reason)


def fits(data: object, spec: ReplySpec) -> bool:
    """A quick check that ``data`` is a reply ``spec`` accepts, for the replies a judge
    writes (choices, and strings within their lengths). True only where the schema
    would accept it too; False sends the reply to jsonschema, which then says what is
    wrong (or accepts a field this check does not know). jsonschema checks the schema
    itself on every call: on a replayed verdict that was most of the time spent."""
    if not isinstance(data, dict) or len(data) != len(spec.fields):
        return False
    for f in spec.fields:
        value = data.get(f.name)
        if isinstance(f, ChoiceField):
            if not isinstance(value, str) or value not in f.spellings:
                return False
            continue
        schema = f.schema
        if (schema.get("type") != "string" or not isinstance(value, str)
                or not set(schema) <= {"type", "minLength", "maxLength"}):
            return False
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
            return False
    return True


def clip_reply(text: str, limit: int = 200) -> str:
    """A reply quoted in an error: whole when short, else its start and its length."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit] + '...'!r} ({len(text):,} characters; the first {limit} shown)"


def schema_message(message: str, limit: int = 300) -> str:
    """jsonschema's message, which quotes the offending value whole (a 2,000,000-character
    reason would be quoted whole in the terminal and every report), cut to a bound."""
    if len(message) <= limit:
        return message
    return f"{message[:limit]}... (a {len(message):,}-character message, cut)"


def refuse_oversized(text: str) -> None:
    if len(text) > MAX_REPLY_CHARS:
        raise JudgeReplyError(
            f"judge reply is {len(text):,} characters, more than the {MAX_REPLY_CHARS:,} any "
            "reply within llmjudge_max_tokens comes near: the server ignored the token "
            f"limit, so the reply was not read; it began {text[:200]!r}")
