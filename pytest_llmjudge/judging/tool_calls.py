"""Tool-call trajectories matched by rule: free, exact, and explained as a diff.

``order`` says how the calls made (``actual``) must line up with the ``expected``:
- ``strict``: the same calls in the same order;
- ``unordered``: the same calls, in any order;
- ``subset``: every call made is expected (expected ones may be left out);
- ``superset``: every expected call is made (others may be made too).

``args`` says when two calls of the same tool agree: ``exact`` (equal JSON values),
``ignore`` (the name is enough), or a callable ``(actual_args, expected_args) ->
bool``. An expected call without ``args`` agrees with any arguments. ``judged``
(arguments compared by meaning) pairs calls by name here and leaves the arguments to
the judge (assertions/agents.py).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import JudgeConfigError
from .transcripts import (
    ToolCall,
    Transcript,
    Turn,
    as_dict,
    is_conversation,
    parse_call,
    parse_transcript,
)
from .verdict import Verdict

ORDERS = ("strict", "unordered", "subset", "superset")
ARG_MODES = ("exact", "ignore", "judged")
ANY_ARGS = object()  # an expected call that leaves its arguments open
ArgsRule = Callable[[Any, Any], bool]


@dataclass(frozen=True)
class Expected:
    name: str
    args: Any = ANY_ARGS

    def signature(self) -> str:
        if self.args is ANY_ARGS:
            return f"{self.name}(...)"
        return f"{self.name}({json.dumps(self.args, ensure_ascii=False, sort_keys=True)})"


@dataclass(frozen=True)
class ArgDifference:
    name: str  # the argument
    expected: Any  # MISSING where the call left it out
    actual: Any


MISSING = "<missing>"


@dataclass
class Match:
    """How the calls made line up with the expected ones."""

    order: str
    args: str
    actual: list[ToolCall]
    expected: list[Expected]
    pairs: list[tuple[int, int]] = field(default_factory=list)  # (expected, actual)
    missing: list[int] = field(default_factory=list)  # expected indexes not made
    unexpected: list[int] = field(default_factory=list)  # actual indexes not expected
    # (expected, actual, differences): same tool, arguments that disagree
    differing: list[tuple[int, int, list[ArgDifference]]] = field(default_factory=list)
    # args="judged": the judge's verdict on the values that differ (None: no judge call)
    verdict: Verdict | None = None

    @property
    def passed(self) -> bool:
        return not (self.missing or self.unexpected or self.differing)

    def explain(self) -> list[str]:
        """The failure as a diff: what is missing, what is unexpected, what differs."""
        lines = [f"tool calls do not match (order={self.order!r}, args={self.args!r}):"]
        for e in self.missing:
            lines.append(f"  missing:    expected[{e}] {self.expected[e].signature()} "
                         "was not called")
        for a in self.unexpected:
            lines.append(f"  unexpected: actual[{a}] {self.actual[a].signature()}")
        for e, a, differences in self.differing:
            for d in differences:
                if d.expected is MISSING:
                    what = f"was not expected, got {_value(d.actual)}"
                elif d.actual is MISSING:
                    what = f"is missing, expected {_value(d.expected)}"
                else:
                    what = f"expected {_value(d.expected)}, got {_value(d.actual)}"
                lines.append(f"  differs:    actual[{a}] {self.actual[a].name} (expected[{e}])"
                             f": argument {d.name!r} {what}")
        lines.append(f"actual ({len(self.actual)}):   " + _listed(
            [c.signature() for c in self.actual]))
        lines.append(f"expected ({len(self.expected)}): " + _listed(
            [c.signature() for c in self.expected]))
        return lines


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _listed(signatures: list[str]) -> str:
    return ", ".join(f"[{i}] {s}" for i, s in enumerate(signatures)) or "none"


def parse_order(raw: object, where: str) -> str:
    if raw not in ORDERS:
        raise JudgeConfigError(f"{where}: order={raw!r} is not a way to match calls; use "
                               f"one of {', '.join(ORDERS)}")
    return str(raw)


def parse_args_mode(raw: object, where: str) -> str | ArgsRule:
    if callable(raw):
        return raw
    if raw not in ARG_MODES:
        raise JudgeConfigError(
            f"{where}: args={raw!r} is not a way to compare arguments; use one of "
            f"{', '.join(ARG_MODES)}, or a function (actual_args, expected_args) -> bool")
    return str(raw)


def actual_calls(value: object, where: str) -> list[ToolCall]:
    """The calls made: from a transcript (its assistant turns' tool_calls, in order), a
    list of tool-call dicts (OpenAI's or ``{name, args}``), or OpenAI tool_call objects."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise JudgeConfigError(
            f"{where}: actual must be a transcript or a list of tool calls, got "
            f"{type(value).__name__}")
    if value and is_conversation(value) and has_role(value[0]):
        return parse_transcript(value, where).tool_calls
    calls = []
    for number, raw in enumerate(value):
        data = as_dict(raw)
        if data is None:
            raise JudgeConfigError(f"{where}: actual[{number}] is {raw!r}, not a tool call")
        calls.append(parse_call(data, f"{where}: actual[{number}]"))
    return calls


def trajectory_of(value: object, where: str) -> Transcript:
    """A transcript, or a list of tool calls laid out as the assistant turns that made
    them (a trajectory with no messages)."""
    if is_conversation(value) and value and has_role(value[0]):  # type: ignore[index]
        return parse_transcript(value, where)
    calls = actual_calls(value, where)
    if not calls:
        raise JudgeConfigError(f"{where}: the trajectory is empty; there is nothing to judge")
    return Transcript(tuple(Turn(i, "assistant", "", (c,)) for i, c in enumerate(calls)))


def has_role(value: object) -> bool:
    """Whether ``value`` is a chat message (it has a role), not a bare tool call."""
    data = as_dict(value)
    return data is not None and "role" in data


def expected_calls(value: object, where: str) -> list[Expected]:
    """The expected trajectory: a list of ``{"name": ..., "args": {...}}`` (args
    optional: any arguments agree)."""
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Sequence):
        raise JudgeConfigError(
            f"{where}: expected must be a list of calls "
            f'[{{"name": "lookup_order", "args": {{"order_id": "A1"}}}}, ...], got '
            f"{type(value).__name__}")
    calls = []
    for number, raw in enumerate(value):
        at = f"{where}: expected[{number}]"
        if not isinstance(raw, Mapping):
            raise JudgeConfigError(f"{at} is {raw!r}; each expected call is a dict "
                                   '{"name": ..., "args": {...}}')
        unknown = sorted(set(raw) - {"name", "args"})
        if unknown:
            raise JudgeConfigError(f"{at} has key(s) {', '.join(map(repr, unknown))}; an "
                                   "expected call has a name and, optionally, args")
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise JudgeConfigError(f"{at} has no tool name (a non-empty str 'name')")
        if "args" not in raw:
            calls.append(Expected(name))
            continue
        args = raw["args"]
        if not isinstance(args, Mapping):
            raise JudgeConfigError(f"{at}: args must be a dict of argument values, got "
                                   f"{args!r}; leave args out to accept any arguments")
        try:
            calls.append(Expected(name, json.loads(json.dumps(args, sort_keys=True))))
        except (TypeError, ValueError) as err:
            raise JudgeConfigError(f"{at}: args cannot be written as JSON ({err})") from None
    return calls


def match(actual: list[ToolCall], expected: list[Expected], order: str,
          args: str | ArgsRule) -> Match:
    """Line the calls up under ``order``; arguments are compared by ``args`` (under
    ``judged``, calls pair by name and the arguments are left to the judge)."""
    mode = args if isinstance(args, str) else "callable"
    result = Match(order, mode, actual, expected)

    def agree(e: int, a: int) -> bool:
        return (expected[e].name == actual[a].name
                and not _differences(expected[e], actual[a], args))

    if order == "strict":
        _strict(result, agree)
    else:
        _unordered(result, agree)
    # A missing and an unexpected call of the same tool are one call whose arguments
    # differ: say which argument, not "missing" and "unexpected".
    for e in list(result.missing):
        a = next((a for a in result.unexpected if actual[a].name == expected[e].name), None)
        if a is not None:
            result.missing.remove(e)
            result.unexpected.remove(a)
            result.differing.append((e, a, _differences(expected[e], actual[a], args)))
    if order == "subset":
        result.missing = []  # expected calls may be left out
    if order == "superset":
        result.unexpected = []  # other calls may be made
    result.differing.sort()
    return result


def _strict(result: Match, agree: Callable[[int, int], bool]) -> None:
    names_e = [c.name for c in result.expected]
    names_a = [c.name for c in result.actual]
    blocks = difflib.SequenceMatcher(a=names_e, b=names_a, autojunk=False).get_opcodes()
    for tag, e1, e2, a1, a2 in blocks:
        if tag == "equal":
            for e, a in zip(range(e1, e2), range(a1, a2), strict=True):
                if agree(e, a):
                    result.pairs.append((e, a))
                else:
                    result.missing.append(e)
                    result.unexpected.append(a)
        else:
            result.missing += range(e1, e2)
            result.unexpected += range(a1, a2)


def _unordered(result: Match, agree: Callable[[int, int], bool]) -> None:
    """A largest matching of expected to actual calls (augmenting paths: the lists are
    short), so an early loose expectation cannot take the call a later one needs."""
    owner: dict[int, int] = {}  # actual -> expected

    def place(e: int, seen: set[int]) -> bool:
        for a in range(len(result.actual)):
            if a in seen or not agree(e, a):
                continue
            seen.add(a)
            if a not in owner or place(owner[a], seen):
                owner[a] = e
                return True
        return False

    for e in range(len(result.expected)):
        place(e, set())
    result.pairs = sorted((e, a) for a, e in owner.items())
    matched_e = set(owner.values())
    result.missing = [e for e in range(len(result.expected)) if e not in matched_e]
    result.unexpected = [a for a in range(len(result.actual)) if a not in owner]


def _differences(expected: Expected, actual: ToolCall,
                 args: str | ArgsRule) -> list[ArgDifference]:
    if expected.args is ANY_ARGS or args in ("ignore", "judged"):
        return []
    if callable(args):
        try:
            verdict = args(actual.args, expected.args)
        except Exception as err:  # the user's rule: its failure is theirs to see
            raise JudgeConfigError(
                f"the args function raised on {actual.signature()} against "
                f"{expected.signature()}: {type(err).__name__}: {err}") from err
        if not isinstance(verdict, bool):
            raise JudgeConfigError(f"the args function returned {verdict!r}; it must "
                                   "return True (the arguments agree) or False")
        return [] if verdict else [ArgDifference("(args function)", expected.args,
                                                 actual.args)]
    return argument_differences(expected.args, actual.args)


def argument_differences(expected: Any, actual: Any) -> list[ArgDifference]:
    """Argument by argument, where both are dicts; else the values whole."""
    if not (isinstance(expected, dict) and isinstance(actual, dict)):
        return [] if same(expected, actual) else [ArgDifference("(all)", expected, actual)]
    out = []
    for name in sorted(set(expected) | set(actual)):
        want, got = expected.get(name, MISSING), actual.get(name, MISSING)
        if want is MISSING or got is MISSING or not same(want, got):
            out.append(ArgDifference(name, want, got))
    return out


def same(a: Any, b: Any) -> bool:
    """JSON equality: 30 and 30.0 are one number (a JSON writer may give either), but
    true is not 1, and "30" is not 30."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b
