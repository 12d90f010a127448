"""Tool-call trajectories matched by rule: every order and args mode, the diff a
mismatch prints, and every bad input an error (never a mismatch)."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_llmjudge.errors import JudgeConfigError
from pytest_llmjudge.judging.tool_calls import (
    actual_calls,
    expected_calls,
    match,
    parse_args_mode,
    parse_order,
    same,
    trajectory_of,
)

pytestmark = pytest.mark.unit


def call(name: str, **args: Any) -> dict[str, Any]:
    return {"name": name, "args": args}


LOOKUP, REFUND = call("lookup_order", order_id="A1"), call("issue_refund", order_id="A1",
                                                           amount=30)
NOTIFY = call("notify", channel="email")


def run(actual: list[dict[str, Any]], expected: list[dict[str, Any]], order: str = "strict",
        args: Any = "exact") -> Any:
    return match(actual_calls(actual, "t"), expected_calls(expected, "t"), order, args)


@pytest.mark.parametrize(("order", "actual", "passes"), [
    ("strict", [LOOKUP, REFUND], True),
    ("strict", [REFUND, LOOKUP], False),
    ("strict", [LOOKUP, REFUND, NOTIFY], False),
    ("unordered", [REFUND, LOOKUP], True),
    ("unordered", [LOOKUP], False),
    ("unordered", [LOOKUP, REFUND, NOTIFY], False),
    ("subset", [LOOKUP], True),  # every call made was expected
    ("subset", [LOOKUP, NOTIFY], False),
    ("superset", [NOTIFY, REFUND, LOOKUP], True),  # every expected call was made
    ("superset", [LOOKUP, NOTIFY], False),
])
def test_each_order(order: str, actual: list[dict[str, Any]], passes: bool) -> None:
    assert run(actual, [LOOKUP, REFUND], order).passed is passes


def test_a_strict_mismatch_names_the_missing_the_unexpected_and_the_differing() -> None:
    result = run([call("lookup_order", order_id="A2"), NOTIFY], [LOOKUP, REFUND])
    text = "\n".join(result.explain())
    assert not result.passed
    assert ("missing:    expected[1] issue_refund({\"amount\": 30, \"order_id\": \"A1\"}) "
            "was not called") in text
    assert 'unexpected: actual[1] notify({"channel": "email"})' in text
    assert ("differs:    actual[0] lookup_order (expected[0]): argument 'order_id' expected "
            '"A1", got "A2"') in text


def test_a_missing_or_extra_argument_is_named() -> None:
    result = run([call("issue_refund", order_id="A1", reason="late")], [REFUND])
    text = "\n".join(result.explain())
    assert "argument 'amount' is missing, expected 30" in text
    assert "argument 'reason' was not expected, got \"late\"" in text


def test_the_unordered_match_finds_a_pairing_a_greedy_one_would_miss() -> None:
    # The first expected call accepts either actual call; the greedy choice would take
    # the only one the second expected call accepts.
    loose, tight = {"name": "search"}, call("search", q="kettle")
    assert run([call("search", q="kettle"), call("search", q="tea")], [loose, tight],
               "unordered").passed


def test_args_modes() -> None:
    made = [call("lookup_order", order_id="a1")]
    assert not run(made, [LOOKUP]).passed
    assert run(made, [LOOKUP], args="ignore").passed
    assert run(made, [LOOKUP], args=lambda a, e: a["order_id"].upper() == e["order_id"]).passed
    assert run(made, [{"name": "lookup_order"}]).passed  # no args given: any args


def test_json_numbers_compare_by_value_but_types_stay_apart() -> None:
    assert same(30, 30.0) and same({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not same(1, True) and not same("30", 30) and not same([1], [1, 1])


def test_arguments_as_json_strings_openai_objects_and_transcripts_all_read_the_same() -> None:
    openai = [{"id": "c1", "type": "function", "function": {
        "name": "lookup_order", "arguments": '{"order_id": "A1"}'}}]
    transcript = [{"role": "user", "content": "Where is A1?"},
                  {"role": "assistant", "content": None, "tool_calls": openai},
                  {"role": "tool", "tool_call_id": "c1", "content": "shipped"}]
    for actual in (openai, transcript, [LOOKUP]):
        assert run(actual, [LOOKUP]).passed, actual


@pytest.mark.parametrize(("actual", "message"), [
    ([{"name": "f", "arguments": "{not json"}], r"actual\[0\] \(f\): the arguments are not "
                                                "valid JSON"),
    ("lookup_order", "actual must be a transcript or a list of tool calls"),
    ([42], r"actual\[0\] is 42, not a tool call"),
    ([{"args": {}}], "has no tool name"),
])
def test_bad_actual_calls_are_errors(actual: Any, message: str) -> None:
    with pytest.raises(JudgeConfigError, match=message):
        actual_calls(actual, "assert_tool_calls()")


@pytest.mark.parametrize(("expected", "message"), [
    ({"name": "f"}, "expected must be a list of calls"),
    (["f"], r"expected\[0\] is 'f'"),
    ([{"tool": "f"}], "has key"),
    ([{"name": ""}], "has no tool name"),
    ([{"name": "f", "args": "x=1"}], "args must be a dict"),
    ([{"name": "f", "args": {"when": object()}}], "cannot be written as JSON"),
])
def test_bad_expected_trajectories_are_errors(expected: Any, message: str) -> None:
    with pytest.raises(JudgeConfigError, match=message):
        expected_calls(expected, "assert_tool_calls()")


def test_unknown_order_and_args_modes_are_errors() -> None:
    with pytest.raises(JudgeConfigError, match="order='any' is not a way to match calls"):
        parse_order("any", "t")
    with pytest.raises(JudgeConfigError, match="args='fuzzy' is not a way to compare"):
        parse_args_mode("fuzzy", "t")


def test_an_args_function_that_raises_or_returns_a_non_bool_is_an_error() -> None:
    with pytest.raises(JudgeConfigError, match="the args function raised"):
        run([LOOKUP], [LOOKUP], args=lambda a, e: a["missing"])
    with pytest.raises(JudgeConfigError, match="must return True"):
        run([LOOKUP], [LOOKUP], args=lambda a, e: "yes")


def test_a_list_of_calls_is_a_trajectory_of_assistant_turns() -> None:
    path = trajectory_of([LOOKUP, REFUND], "t")
    assert [t.role for t in path.turns] == ["assistant", "assistant"]
    assert [c.name for c in path.tool_calls] == ["lookup_order", "issue_refund"]
    with pytest.raises(JudgeConfigError, match="the trajectory is empty"):
        trajectory_of([], "t")
