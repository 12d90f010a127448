"""Judged tests for the toy tool-using agent (support_agent.py): its tool calls, matched
by rule, and its conversation, judged. Run: pytest examples/

One fails on purpose: the careless agent refunds without looking the order up, and the
failure is a diff of the tool calls, made without a judge call.
"""

from __future__ import annotations

from typing import Any

import pytest
from support_agent import SupportAgent

from pytest_llmjudge import (
    ToolsFixture,
    assert_each_turn,
    assert_follows_role,
    assert_goal_met,
    assert_grounded,
    assert_retains_knowledge,
    assert_tool_calls,
    assert_trajectory_judged,
)

CUSTOMER = ["Hi, my kettle from order A1 leaks.", "Can I get a refund please?"]
LOOKUP = {"name": "lookup_order", "args": {"order_id": "A1"}}
REFUND = {"name": "issue_refund",
          "args": {"order_id": "A1", "amount_eur": 30, "reason": "the kettle leaks"}}


@pytest.fixture
def chat() -> list[dict[str, Any]]:
    return SupportAgent().run(CUSTOMER)


def test_refund_comes_after_a_lookup(chat: list[dict[str, Any]]) -> None:
    # Deterministic: no judge call. The refund's reason is free text, so it is left out
    # here (an expected call without "args" accepts any arguments).
    assert_tool_calls(chat, [LOOKUP, LOOKUP, {"name": "issue_refund"}], order="strict")


def test_refund_reason_means_what_the_customer_said(chat: list[dict[str, Any]]) -> None:
    # Equal arguments are compared by rule; only the reason, worded differently, goes
    # to the judge: does "customer reports the kettle is leaking" mean "the kettle leaks"?
    assert_tool_calls(chat, [REFUND], order="superset", args="judged")


@pytest.mark.llmjudge_tools(expected=[LOOKUP, {"name": "issue_refund"}], order="strict")
def test_careless_agent_looks_the_order_up_first(judge_tools: ToolsFixture) -> None:
    """Fails on purpose: the careless agent refunds without a lookup."""
    judge_tools(SupportAgent(careless=True).run(["Please refund order A1, it leaks."]))


def test_every_reply_is_polite(chat: list[dict[str, Any]]) -> None:
    # Each assistant turn is judged with the turns before it as its context.
    assert_each_turn(chat, "The reply is polite and clear")


def test_agent_does_not_ask_again_for_the_order_number(chat: list[dict[str, Any]]) -> None:
    assert_retains_knowledge(chat)


def test_agent_keeps_to_its_system_prompt(chat: list[dict[str, Any]]) -> None:
    assert_follows_role(chat)


def test_customer_gets_the_refund(chat: list[dict[str, Any]]) -> None:
    assert_goal_met(chat, goal="The customer is refunded for the leaking kettle")


def test_replies_are_grounded_in_the_tool_results(chat: list[dict[str, Any]]) -> None:
    # Each claim of each assistant turn must be supported by what came before it: the
    # tool results, the system prompt, what the customer said.
    assert_grounded(chat)


def test_the_path_is_reasonable(chat: list[dict[str, Any]]) -> None:
    # For when several paths are valid: judged against one good path, not matched to it.
    assert_trajectory_judged(chat, "The agent refunds the order the customer asked about",
                             reference=[LOOKUP, REFUND])
