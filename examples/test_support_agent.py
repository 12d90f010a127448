"""Judged tests for the toy tool-using agent (support_agent.py): its tool calls, matched
by rule, and its conversation, judged. Run: pytest examples/

Two fail on purpose: the careless agent refunds without looking the order up (the
failure is a diff of the tool calls, made without a judge call), and the agent's first
reply states a delivery date but ignores the leak the customer reported (the failure
names the turn).
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


def test_refund_is_for_the_right_order(chat: list[dict[str, Any]]) -> None:
    # Arguments compared by your own rule: here only the order and the amount matter.
    # (args="judged" compares values by meaning through the judge instead; see
    # docs/conversations-and-agents.md for what the 1.5B judge makes of paraphrases.)
    assert_tool_calls(chat, [REFUND], order="superset",
                      args=lambda made, wanted: (made["order_id"], made["amount_eur"])
                      == (wanted["order_id"], wanted["amount_eur"]))


@pytest.mark.llmjudge_tools(expected=[LOOKUP, {"name": "issue_refund"}], order="strict")
def test_careless_agent_looks_the_order_up_first(judge_tools: ToolsFixture) -> None:
    """Fails on purpose: the careless agent refunds without a lookup."""
    judge_tools(SupportAgent(careless=True).run(["Please refund order A1, it leaks."]))


def test_every_reply_acknowledges_the_customer(chat: list[dict[str, Any]]) -> None:
    """Fails on purpose: the first reply ignores the leak. Each assistant turn is judged
    with the turns before it as its context, and the failure names the turn."""
    assert_each_turn(chat, "The reply acknowledges the customer's problem")


def test_agent_does_not_ask_again_for_the_order_number(chat: list[dict[str, Any]]) -> None:
    # Retention and role adherence are beyond the 1.5B default judge (measured AUROC
    # 0.25 and 0.44 on the project's labelled conversations): this runs, but give these
    # two checks a larger or remote judge before you trust their verdicts.
    assert_retains_knowledge(chat)


def test_agent_keeps_to_its_system_prompt(chat: list[dict[str, Any]]) -> None:
    assert_follows_role(chat)  # the conversation's own system message is the role


def test_customer_gets_the_refund(chat: list[dict[str, Any]]) -> None:
    assert_goal_met(chat, goal="The customer is refunded for the leaking kettle")


def test_replies_are_grounded_in_the_tool_results(chat: list[dict[str, Any]]) -> None:
    # Each claim of each assistant turn must be supported by what came before it: the
    # tool results, the system prompt, what the customer said.
    assert_grounded(chat)


def test_the_path_is_reasonable(chat: list[dict[str, Any]]) -> None:
    # For when several paths are valid: judged against one good path, not matched to it.
    assert_trajectory_judged(chat, "The agent refunds the order the customer asked about",
                             reference=[LOOKUP, {"name": "issue_refund",
                                                 "args": {"order_id": "A1", "amount_eur": 30}}])
