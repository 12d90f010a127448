"""Conversations as judged data: a list of chat messages in the OpenAI format, checked
and put in one canonical form.

Accepted shapes, without importing anyone's library:
- dicts ``{"role": ..., "content": ...}``; an assistant message may carry
  ``tool_calls`` (``{"id", "type": "function", "function": {"name", "arguments"}}``,
  with ``arguments`` a JSON string or an object), a ``tool`` message a
  ``tool_call_id``;
- objects with ``role``/``content`` attributes (and ``tool_calls``/``tool_call_id``),
  or whose ``model_dump()`` or ``dict()`` gives that dict (pydantic models, the
  OpenAI SDK's message objects);
- content as a str, None (an assistant turn that only calls tools), or a list of
  content parts (``{"type": "text", "text": ...}``; other parts show as their type).

A bad message is an error naming its index, never a verdict. The canonical form is
the JSON the cache key, the report and the labels hold; ``shown`` is what a judge
reads: one line a turn, each untrusted value a JSON string literal, so no turn can
imitate the prompt's structure or another turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import JudgeConfigError
from .texts import surrogate_problem, visible

ROLES = ("system", "developer", "user", "assistant", "tool")


@dataclass(frozen=True)
class ToolCall:
    """One call an assistant turn made: its id (may be ""), tool name and arguments."""

    id: str
    name: str
    args: Any  # the parsed arguments: usually a dict

    def canonical(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "args": self.args}

    def signature(self) -> str:
        """``lookup_order({"order_id": "A1"})``: for failures and prompts."""
        return f"{self.name}({json.dumps(self.args, ensure_ascii=False, sort_keys=True)})"


@dataclass(frozen=True)
class Turn:
    index: int
    role: str
    content: str  # "" for an assistant turn that only calls tools
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # a tool turn: the call it answers
    name: str | None = None  # a tool turn: the tool's name, from its call

    def canonical(self) -> dict[str, Any]:
        data: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            data["tool_calls"] = [c.canonical() for c in self.tool_calls]
        if self.tool_call_id is not None:
            data["tool_call_id"] = self.tool_call_id
        return data

    def shown(self) -> str:
        """The turn as the judge reads it: trusted labels, untrusted values quoted."""
        lines = []
        if self.role == "tool":
            tool = _quote(self.name or "")
            lines.append(f"[{self.index}] tool result of {tool}: {_quote(self.content)}")
            return "\n".join(lines)
        if self.content or not self.tool_calls:
            lines.append(f"[{self.index}] {self.role}: {_quote(self.content)}")
        for call in self.tool_calls:
            lines.append(f"[{self.index}] {self.role} calls tool {_quote(call.name)} with "
                         f"arguments {json.dumps(call.args, ensure_ascii=False, sort_keys=True)}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Transcript:
    turns: tuple[Turn, ...]

    @property
    def canonical(self) -> str:
        """The transcript as canonical JSON: what the report and the labels hold."""
        return canonical_json([t.canonical() for t in self.turns])

    def shown(self, upto: int | None = None) -> str:
        """Turns ``[0, upto)`` as the judge reads them, one line a turn."""
        return "\n".join(t.shown() for t in self.turns[:upto])

    def of_role(self, role: str) -> list[Turn]:
        return [t for t in self.turns if t.role == role]

    @property
    def tool_calls(self) -> list[ToolCall]:
        return [c for t in self.turns for c in t.tool_calls]


def canonical_json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def is_conversation(value: object) -> bool:
    """Whether ``value`` is offered as a conversation (a list of messages) rather than a
    text: a list or tuple whose first element is a mapping or has a ``role``."""
    if not isinstance(value, (list, tuple)) or not value:
        return isinstance(value, (list, tuple))  # an empty list: a conversation, empty
    first = value[0]
    return isinstance(first, Mapping) or hasattr(first, "role") or _dumped(first) is not None


def as_dict(value: object) -> dict[str, Any] | None:
    """A message or call as a plain dict: a mapping, an object's ``model_dump()`` or
    ``dict()``, or its attributes; None if it is none of these."""
    if isinstance(value, Mapping):
        return dict(value)
    dumped = _dumped(value)
    if dumped is not None:
        return dumped
    if hasattr(value, "role") or hasattr(value, "function") or hasattr(value, "name"):
        return {k: getattr(value, k) for k in (
            "role", "content", "tool_calls", "tool_call_id", "name", "id", "function",
            "arguments", "args", "type") if hasattr(value, k)}
    return None


def _dumped(value: object) -> dict[str, Any] | None:
    for method in ("model_dump", "dict"):
        function = getattr(value, method, None)
        if callable(function) and not isinstance(value, (str, bytes)):
            try:
                result = function()
            except TypeError:
                continue
            if isinstance(result, Mapping):
                return dict(result)
    return None


def parse_transcript(value: object, where: str, *, judged_role: str | None = None
                     ) -> Transcript:
    """The checked transcript; any bad message is a JudgeConfigError naming it.
    ``judged_role``: the transcript must hold a turn of that role (with text)."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise JudgeConfigError(
            f"{where}: a conversation is a list of messages "
            '[{"role": "user", "content": "..."}, ...], got ' f"{type(value).__name__}")
    if not value:
        raise JudgeConfigError(f"{where}: the conversation is empty; there is nothing to "
                               "judge")
    turns: list[Turn] = []
    calls: dict[str, ToolCall] = {}
    for index, raw in enumerate(value):
        turn = _turn(raw, index, where, calls)
        for call in turn.tool_calls:
            if call.id:
                calls[call.id] = call
        turns.append(turn)
    transcript = Transcript(tuple(turns))
    if judged_role is not None and not any(t.content for t in transcript.of_role(judged_role)):
        roles = sorted({t.role for t in turns})
        raise JudgeConfigError(
            f"{where}: the conversation has no {judged_role} turn with text to judge (its "
            f"roles: {', '.join(roles)}); pass role= for another role, or check the "
            "transcript your app returned")
    return transcript


def _turn(raw: object, index: int, where: str, calls: Mapping[str, ToolCall]) -> Turn:
    at = f"{where}: message {index}"
    data = as_dict(raw)
    if data is None:
        raise JudgeConfigError(
            f"{at} is a {type(raw).__name__}, not a message; give a dict "
            '{"role": ..., "content": ...} or an object with role and content')
    role = data.get("role")
    if role is None:
        raise JudgeConfigError(f"{at} has no role; every message needs one of "
                               f"{', '.join(ROLES)}")
    role = getattr(role, "value", role)  # an enum member
    if role == "function":
        raise JudgeConfigError(f"{at}: role 'function' is OpenAI's retired form of tool "
                               "results; write it as role 'tool' with a tool_call_id")
    if role not in ROLES:
        raise JudgeConfigError(f"{at}: role {role!r} is not one of {', '.join(ROLES)}")
    tool_calls = tuple(_call(c, index, n, where)
                       for n, c in enumerate(data.get("tool_calls") or ()))
    if tool_calls and role != "assistant":
        raise JudgeConfigError(f"{at}: only assistant messages make tool calls, this one "
                               f"is {role!r}")
    content = _content(data.get("content"), at, allow_none=bool(tool_calls))
    if role == "tool":
        call_id = data.get("tool_call_id")
        if not isinstance(call_id, str) or not call_id:
            raise JudgeConfigError(f"{at}: a tool message needs the tool_call_id of the "
                                   "call it answers")
        if call_id not in calls:
            known = ", ".join(sorted(calls)) or "none"
            raise JudgeConfigError(
                f"{at}: tool_call_id {call_id!r} matches no earlier tool call (calls made "
                f"so far: {known}); a tool result must follow the assistant turn that "
                "called it")
        return Turn(index, role, content, tool_call_id=call_id, name=calls[call_id].name)
    if not content and not tool_calls:
        raise JudgeConfigError(f"{at}: the {role} message has no content")
    return Turn(index, role, content, tool_calls)


def _content(raw: object, at: str, *, allow_none: bool) -> str:
    if raw is None or raw == "":
        if allow_none:
            return ""
        raise JudgeConfigError(f"{at} has no content")
    if isinstance(raw, str):
        text = raw
    elif isinstance(raw, (list, tuple)):
        pieces = []
        for number, part in enumerate(raw):
            data = as_dict(part)
            if data is None or not isinstance(data.get("type"), str):
                raise JudgeConfigError(
                    f"{at}: content part {number} is {part!r}; a list of content parts "
                    'holds {"type": "text", "text": ...} dicts')
            if data["type"] == "text":
                if not isinstance(data.get("text"), str):
                    raise JudgeConfigError(f"{at}: text part {number} has no str 'text'")
                pieces.append(data["text"])
            else:  # an image or audio part: the judge reads only text
                pieces.append(f"[{data['type']}]")
        text = "\n".join(pieces)
    else:
        raise JudgeConfigError(
            f"{at}: content is a {type(raw).__name__}; it must be a str or a list of "
            'content parts [{"type": "text", "text": ...}]')
    problem = surrogate_problem(text, f"{at}'s content")
    if problem is not None:
        raise JudgeConfigError(problem)
    if not visible(text) and not allow_none:
        raise JudgeConfigError(f"{at}: its content is empty (whitespace only)")
    return text


def _call(raw: object, index: int, number: int, where: str) -> ToolCall:
    data = as_dict(raw)
    at = f"{where}: message {index}, tool call {number}"
    if data is None:
        raise JudgeConfigError(f"{at} is a {type(raw).__name__}, not a tool call")
    return parse_call(data, at)


# What providers accept as a function name, widely: MCP's "server.tool", "a:b", "a/b".
_TOOL_NAME = re.compile(r"[^\s\x00-\x1f\x7f-\x9f\u2028\u2029]{1,128}")


def parse_call(data: Mapping[str, Any], at: str) -> ToolCall:
    """A tool call from the OpenAI shape (``function: {name, arguments}``) or the flat one
    (``name`` with ``args`` or ``arguments``); arguments given as a JSON string are
    parsed, and text that is not JSON is an error naming the call."""
    function = data.get("function")
    if function is not None:
        inner = as_dict(function)
        if inner is None:
            raise JudgeConfigError(f"{at}: 'function' is {function!r}, not an object")
        name, arguments = inner.get("name"), inner.get("arguments")
    else:
        name = data.get("name")
        arguments = data.get("args", data.get("arguments"))
    if not isinstance(name, str) or not name.strip():
        raise JudgeConfigError(f"{at} has no tool name")
    if not _TOOL_NAME.fullmatch(name):
        # A name is a function name. One holding a line break and "[9] assistant: ..."
        # moved the 1.5B judge from P(YES) 0.20 to 0.61 although the prompt quoted it,
        # and a failure text would show the forged turn: refused, not judged.
        raise JudgeConfigError(
            f"{at}: the tool name {name[:80]!r} is not a function name (1 to 128 "
            "characters, no whitespace or control characters); a tool name that holds text "
            "can address the judge, so it is refused rather than judged")
    call_id = data.get("id") or ""
    if not isinstance(call_id, str):
        raise JudgeConfigError(f"{at}: its id is {call_id!r}, not a str")
    return ToolCall(call_id, name, parse_arguments(arguments, f"{at} ({name})"))


def parse_arguments(arguments: object, at: str) -> Any:
    if arguments is None or arguments == "":
        return {}
    if isinstance(arguments, (str, bytes)):
        try:
            return json.loads(arguments)
        except json.JSONDecodeError as err:
            text = arguments if isinstance(arguments, str) else arguments.decode("utf-8", "replace")
            shown = text if len(text) <= 80 else text[:80] + "..."
            raise JudgeConfigError(
                f"{at}: the arguments are not valid JSON ({err.msg} at position "
                f"{err.pos}): {shown!r}. This is the app's bug, not a mismatch: the tool "
                "could not have been called with them") from None
    try:
        canonical_json(arguments)
    except (TypeError, ValueError) as err:
        raise JudgeConfigError(f"{at}: the arguments cannot be written as JSON ({err})"
                               ) from None
    return json.loads(canonical_json(arguments))  # tuples to lists: one form to compare
