"""One failing test per kind of assertion, for docs/failures.md: each is written to fail,
so the page shows what that kind of failure explains. ``python docs/failure_outputs.py``
runs them and writes the page; they are not part of the suite or the quick start."""

from __future__ import annotations

import itertools

import pytest
from support_agent import SupportAgent
from support_bot import RETURN_POLICY, SHOP_FAQ, SupportBot

from pytest_llmjudge import (
    assert_abstains,
    assert_checklist,
    assert_correct,
    assert_each_turn,
    assert_goal_met,
    assert_grounded,
    assert_judged,
    assert_not_worse,
    assert_tool_calls,
)

CUSTOMER = ["Hi, my kettle from order A1 leaks.", "Can I get a refund please?"]


def test_assert_judged() -> None:
    assert_judged(SupportBot().answer("asdf qwerty"),
                  "The reply is polite and offers the customer a way to get help")


def test_assert_grounded() -> None:
    reply = ("You can return unworn items within 30 days. A return costs a 5 euro "
             "handling fee, deducted from your refund.")
    assert_grounded(reply, context=RETURN_POLICY, question="How do I return my shoes?")


def test_assert_correct() -> None:
    assert_correct("You have 14 days to return an item.",
                   question="How long do I have to return an item?",
                   reference="30 days from delivery.")


def test_assert_abstains() -> None:
    question = "Do you sell gift cards?"
    assert_abstains("Yes: gift cards from 10 to 200 euros, sent by email.",
                    question=question, context=SHOP_FAQ)


def test_assert_checklist() -> None:
    assert_checklist(SupportBot().answer("When will my order ship?"),
                     items=["Apologises for any delay", "Gives a tracking number",
                            "Gives a delivery estimate"])


def test_assert_not_worse() -> None:
    assert_not_worse("Returns are accepted. Please contact us.",
                     SupportBot().answer("How do I return my shoes?"),
                     criteria="Explains clearly how to return an item")


def test_assert_each_turn() -> None:
    assert_each_turn(SupportAgent().run(CUSTOMER),
                     "The reply mentions that the kettle leaks")


def test_assert_goal_met() -> None:
    assert_goal_met(SupportAgent().run(CUSTOMER),
                    goal="The customer is sent a replacement kettle")


def test_assert_tool_calls() -> None:
    assert_tool_calls(SupportAgent(careless=True).run(["Please refund order A1, it leaks."]),
                      [{"name": "lookup_order", "args": {"order_id": "A1"}},
                       {"name": "issue_refund"}], order="strict")


GREETINGS = itertools.cycle([
    "Hi! Thanks for getting in touch with Step Shoes. How can I help?",
    "Your ticket number is 4471.",
    "Hello and welcome! What can I do for you today?",
    "Hi.",
])


@pytest.mark.llmjudge_sample(n=6, min_pass_rate=0.9)
def test_llmjudge_sample() -> None:
    assert_judged(next(GREETINGS), "The reply greets the customer and offers help")
