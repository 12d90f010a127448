"""Judged tests for the toy support bot. Run: pytest examples/

Two of them fail on purpose, because the bot has two bugs (see support_bot.py):
read their failure messages to see what a judged failure explains.
"""

from __future__ import annotations

import pytest
from support_bot import RETURN_POLICY, SHOP_FAQ, SupportBot

from pytest_llmjudge import (
    BaselineFixture,
    ChecklistFixture,
    JudgeFixture,
    assert_abstains,
    assert_grounded,
    assert_judged,
    assert_not_worse,
)


def test_order_status_asks_for_the_order_number(bot: SupportBot) -> None:
    reply = bot.answer("Where is my order?")
    assert_judged(reply, "The reply is polite and asks for the order number")


def test_returns_mention_the_30_day_window(bot: SupportBot) -> None:
    reply = bot.answer("How do I return my shoes?")
    assert_judged(reply, "The reply mentions the 30-day return window")


def test_return_answer_is_grounded_in_the_policy(bot: SupportBot) -> None:
    # Every claim in the reply must be supported by the help-centre page: an invented
    # fee or deadline would fail here even if the reply read well.
    question = "How do I return my shoes?"
    assert_grounded(bot.answer(question), context=RETURN_POLICY, question=question)


@pytest.mark.llmjudge_checklist(
    "Apologises for the damage",
    "Offers a refund or a replacement",
    "Tells the customer what to do next",
)
def test_damaged_order_reply_meets_the_checklist(
    bot: SupportBot, judge_checklist: ChecklistFixture
) -> None:
    # Each item is judged on its own; a failure lists which ones the reply missed.
    judge_checklist(bot.answer("My order arrived damaged, the box was crushed"))


def test_bot_admits_what_the_faq_does_not_say(bot: SupportBot) -> None:
    # The FAQ says nothing about gift cards: the bot must decline, not invent an answer.
    question = "Do you sell gift cards?"
    assert_abstains(bot.answer(question), question=question, context=SHOP_FAQ)


def test_return_reply_is_not_worse_than_the_baseline(
    bot: SupportBot, baseline: BaselineFixture
) -> None:
    # The baseline is the reply an earlier version of the bot gave, kept for review in
    # __llmjudge__/baselines/. Both are judged in both orders: a change to the bot's
    # prompt must not make this reply worse. (--llmjudge-update-baselines records the
    # current reply as the new baseline.)
    reply = bot.answer("How do I return my shoes?")
    assert_not_worse(reply, baseline("return-question", reply),
                     criteria="Explains clearly how to return an item")


@pytest.mark.llmjudge_sample(n=6, min_pass_rate=0.8)
def test_greeting_welcomes_the_customer(bot: SupportBot) -> None:
    # The greeting changes from run to run, so one run proves little: the body runs up
    # to 6 times and passes once 5 runs have passed (0.8 of 6). Each distinct greeting
    # is judged once; a repeat replays from the cache.
    assert_judged(bot.greet(), "The reply greets the customer and offers help")


def test_late_delivery_gets_an_apology(bot: SupportBot) -> None:
    reply = bot.answer("My package is late again")
    assert_judged(reply, "The reply apologises to the customer")


def test_french_customer_gets_a_french_reply(bot: SupportBot) -> None:
    reply = bot.answer("Bonjour, où est ma commande ?")
    assert_judged(reply, "The reply is written in French")


def test_judge_fixture_gives_the_verdict(bot: SupportBot, judge: JudgeFixture) -> None:
    reply = bot.answer("Can I send back a gift?")
    verdict = judge.evaluate(reply, "The reply explains how to return an item")
    # The verdict is a value: check it, log it, or compare it with other runs.
    assert verdict.passed, verdict.reasoning
    assert verdict.score >= verdict.threshold


def test_shipping_reply_gives_an_estimate_not_a_promise(bot: SupportBot) -> None:
    """Fails on purpose: the bot guarantees next-day delivery.

    The criterion names the property we want rather than the one we don't: small judges
    misread negations ("does not promise ...") far more often than positive statements.
    """
    reply = bot.answer("When will my order ship?")
    assert_judged(
        reply, "The reply presents the delivery date as an estimate rather than a guarantee"
    )


def test_fallback_offers_help(bot: SupportBot) -> None:
    """Fails on purpose: the fallback reply is curt and offers no way forward."""
    reply = bot.answer("asdf qwerty")
    assert_judged(reply, "The reply is polite and offers the customer a way to get help")
