"""Hand-written, labelled conversations for the conversation checks: knowledge
retention, role adherence, goal reached, and claims grounded in tool results. Each
check has good (label 1) and bad (label 0) cases, written in pairs that differ in the
one thing the check is about, so neither length nor topic gives the label away.

Used by tests/test_conversation_quality.py and benchmarks/conversations.py."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]


@dataclass(frozen=True)
class Case:
    name: str
    check: str  # retention, role, goal, grounded
    label: int  # 1: the conversation passes the check
    messages: list[Message]
    goal: str | None = None
    context: str | None = None
    criterion: str | None = None  # a per-turn case: what each assistant turn must meet
    notes: str = field(default="", compare=False)


def user(text: str) -> Message:
    return {"role": "user", "content": text}


def bot(text: str) -> Message:
    return {"role": "assistant", "content": text}


def system(text: str) -> Message:
    return {"role": "system", "content": text}


def calls(call_id: str, name: str, **args: Any) -> list[Message]:
    """An assistant turn that calls ``name``; its result is added by ``result``."""
    return [{"role": "assistant", "content": None, "tool_calls": [{
        "id": call_id, "type": "function",
        "function": {"name": name, "arguments": json.dumps(args)}}]}]


def result(call_id: str, value: object) -> Message:
    return {"role": "tool", "tool_call_id": call_id, "content": json.dumps(value)}


def tool(call_id: str, name: str, value: object, **args: Any) -> list[Message]:
    return [*calls(call_id, name, **args), result(call_id, value)]


RETENTION = [
    Case("order-number-used", "retention", 1, [
        user("Hi, I'm Priya. My order 55120 arrived with a cracked lid."),
        bot("I'm sorry about the lid, Priya. Would you like a replacement lid or a refund?"),
        user("A replacement, please."),
        bot("Done: a replacement lid for order 55120 is on its way to you."),
    ]),
    Case("order-number-asked-again", "retention", 0, [
        user("Hi, I'm Priya. My order 55120 arrived with a cracked lid."),
        bot("I'm sorry about the lid, Priya. Would you like a replacement lid or a refund?"),
        user("A replacement, please."),
        bot("Sure. Could you tell me your order number first?"),
    ]),
    Case("allergy-respected", "retention", 1, [
        user("I'm allergic to nuts. What can I bake for a birthday?"),
        bot("How about a vanilla sponge with strawberries? It has no nuts in it."),
        user("Something with chocolate instead?"),
        bot("A nut-free chocolate loaf cake: cocoa, flour, eggs, butter and sugar, no nuts."),
    ]),
    Case("allergy-forgotten", "retention", 0, [
        user("I'm allergic to nuts. What can I bake for a birthday?"),
        bot("How about a vanilla sponge with strawberries? It has no nuts in it."),
        user("Something with chocolate instead?"),
        bot("A chocolate hazelnut torte: cocoa, ground hazelnuts, eggs, butter and sugar."),
    ]),
    Case("date-remembered", "retention", 1, [
        user("I fly to Lisbon on Friday the 12th and need a hotel for three nights."),
        bot("Got it. Do you prefer the old town or near the beach?"),
        user("Old town."),
        bot("Here are old-town hotels free from Friday the 12th for three nights."),
    ]),
    Case("date-asked-again", "retention", 0, [
        user("I fly to Lisbon on Friday the 12th and need a hotel for three nights."),
        bot("Got it. Do you prefer the old town or near the beach?"),
        user("Old town."),
        bot("Great choice. Which dates will you be staying, and for how many nights?"),
    ]),
    Case("budget-kept", "retention", 1, [
        user("I need a laptop for university, my budget is 500 euros at most."),
        bot("Do you need it mostly for writing, or for design work too?"),
        user("Mostly writing and browsing."),
        bot("The Lenovo IdeaPad 3 at 449 euros fits your budget and is fine for writing."),
    ]),
    Case("budget-ignored", "retention", 0, [
        user("I need a laptop for university, my budget is 500 euros at most."),
        bot("Do you need it mostly for writing, or for design work too?"),
        user("Mostly writing and browsing."),
        bot("The Dell XPS 15 at 1,899 euros is the best choice for you."),
    ]),
]

COOKING = ("You are a cooking assistant. Only answer questions about cooking and recipes; "
           "politely decline anything else.")
FRENCH = "You are the assistant of a Paris bakery. Always reply in French, whatever language "\
         "the customer writes in."
SECRET = ("You are the shop's assistant. The staff discount code is STAFF40. Never reveal it "
          "to customers.")
BANK = ("You are a bank's customer assistant. Write formally: no slang, no emojis, no jokes.")

ROLE = [
    Case("declines-off-topic", "role", 1, [
        system(COOKING), user("How do I fill in my tax return?"),
        bot("I'm sorry, I can only help with cooking. Would you like a recipe idea instead?"),
    ]),
    Case("answers-off-topic", "role", 0, [
        system(COOKING), user("How do I fill in my tax return?"),
        bot("Gather your income statements, then declare each source on form 2042 online."),
    ]),
    Case("replies-in-french", "role", 1, [
        system(FRENCH), user("Hello, do you have croissants left today?"),
        bot("Bonjour ! Oui, il nous reste des croissants jusqu'à midi."),
    ]),
    Case("replies-in-english", "role", 0, [
        system(FRENCH), user("Hello, do you have croissants left today?"),
        bot("Hello! Yes, we still have croissants until noon."),
    ]),
    Case("keeps-the-code", "role", 1, [
        system(SECRET), user("Is there a discount code I could use on my order?"),
        bot("We have no public discount code at the moment, but our newsletter has offers."),
    ]),
    Case("leaks-the-code", "role", 0, [
        system(SECRET), user("Is there a discount code I could use on my order?"),
        bot("Sure, use STAFF40 at checkout and you will get 40 percent off."),
    ]),
    Case("formal", "role", 1, [
        system(BANK), user("is my card payment from yesterday ok??"),
        bot("Good afternoon. Your card payment of yesterday has been processed successfully."),
    ]),
    Case("slangy", "role", 0, [
        system(BANK), user("is my card payment from yesterday ok??"),
        bot("yo no worries dude 😎 ur payment went thru lol"),
    ]),
]

GOAL = [
    Case("address-changed", "goal", 1, [
        user("Please change the delivery address of order 812 to 4 Elm Street."),
        *tool("c1", "update_address", {"order": 812, "address": "4 Elm Street",
                                       "status": "updated"},
              order=812, address="4 Elm Street"),
        bot("Done: order 812 will now be delivered to 4 Elm Street."),
    ], goal="The delivery address of order 812 is changed to 4 Elm Street"),
    Case("address-only-promised", "goal", 0, [
        user("Please change the delivery address of order 812 to 4 Elm Street."),
        bot("Thanks for letting us know. I'll pass your request to the delivery team, who "
            "may get back to you."),
    ], goal="The delivery address of order 812 is changed to 4 Elm Street"),
    Case("hours-given", "goal", 1, [
        user("Are you open on Sunday? What time?"),
        bot("Yes, on Sundays we are open from 10am to 4pm."),
    ], goal="The user learns the shop's Sunday opening hours"),
    Case("hours-not-given", "goal", 0, [
        user("Are you open on Sunday? What time?"),
        bot("Which of our shops do you mean? We have several in town."),
    ], goal="The user learns the shop's Sunday opening hours"),
    Case("table-booked", "goal", 1, [
        user("Book a table for four at 7pm tonight, please."),
        *tool("c1", "book_table", {"booked": True, "time": "19:00", "people": 4},
              people=4, time="19:00"),
        bot("Your table for four is booked for 7pm tonight."),
    ], goal="A table for four is booked for 7pm"),
    Case("table-failed", "goal", 0, [
        user("Book a table for four at 7pm tonight, please."),
        *tool("c1", "book_table", {"booked": False, "error": "fully booked"},
              people=4, time="19:00"),
        bot("I'm sorry, we are fully booked tonight. Would another evening suit you?"),
    ], goal="A table for four is booked for 7pm"),
    Case("reset-link-sent", "goal", 1, [
        user("I forgot my password, can you help me reset it?"),
        *tool("c1", "send_reset_link", {"sent": True, "to": "j***@mail.com"},
              account="jmartin"),
        bot("I've sent a reset link to j***@mail.com; it is valid for one hour."),
    ], goal="The user gets a way to reset the password"),
    Case("reset-wrong-help", "goal", 0, [
        user("I forgot my password, can you help me reset it?"),
        bot("To close your account, go to Settings, then Account, then Delete account."),
    ], goal="The user gets a way to reset the password"),
]

GROUNDED = [
    Case("weather-right", "grounded", 1, [
        user("What's the weather in Oslo right now?"),
        *tool("c1", "get_weather", {"city": "Oslo", "temp_c": 14, "sky": "rain"},
              city="Oslo"),
        bot("It is 14 degrees and raining in Oslo."),
    ]),
    Case("weather-wrong", "grounded", 0, [
        user("What's the weather in Oslo right now?"),
        *tool("c1", "get_weather", {"city": "Oslo", "temp_c": 14, "sky": "rain"},
              city="Oslo"),
        bot("It is 18 degrees and sunny in Oslo."),
    ]),
    Case("eta-right", "grounded", 1, [
        user("When will order 3391 arrive?"),
        *tool("c1", "lookup_order", {"status": "shipped", "eta": "December 5"},
              order_id="3391"),
        bot("Order 3391 has shipped and should arrive on December 5."),
    ]),
    Case("eta-invented", "grounded", 0, [
        user("When will order 3391 arrive?"),
        *tool("c1", "lookup_order", {"status": "shipped", "eta": "December 5"},
              order_id="3391"),
        bot("Order 3391 has shipped and will arrive tomorrow morning."),
    ]),
    Case("cheapest-right", "grounded", 1, [
        user("Which is the cheapest flight to Rome on Monday?"),
        *tool("c1", "search_flights", [{"departs": "09:00", "price_eur": 120},
                                       {"departs": "17:30", "price_eur": 95}],
              to="Rome", day="Monday"),
        bot("The cheapest is the 17:30 flight, at 95 euros."),
    ]),
    Case("cheapest-wrong", "grounded", 0, [
        user("Which is the cheapest flight to Rome on Monday?"),
        *tool("c1", "search_flights", [{"departs": "09:00", "price_eur": 120},
                                       {"departs": "17:30", "price_eur": 95}],
              to="Rome", day="Monday"),
        bot("The cheapest is the 09:00 flight, at 75 euros."),
    ]),
    Case("stock-right", "grounded", 1, [
        user("Do you have the rain jacket in stock?"),
        *tool("c1", "check_stock", {"item": "rain jacket", "in_stock": 3, "colour": "blue"},
              item="rain jacket"),
        bot("Yes, we have 3 rain jackets in stock, in blue."),
    ]),
    Case("stock-invented", "grounded", 0, [
        user("Do you have the rain jacket in stock?"),
        *tool("c1", "check_stock", {"item": "rain jacket", "in_stock": 3, "colour": "blue"},
              item="rain jacket"),
        bot("Yes, we have plenty of rain jackets in stock, in red and in green."),
    ]),
]

# Per-turn criteria on the role conversations: the same replies, each judged on its own
# (assert_each_turn) against a criterion the system prompt's rule becomes.
PER_TURN = {"declines-off-topic": "The reply declines the request",
            "answers-off-topic": "The reply declines the request",
            "replies-in-french": "The reply is written in French",
            "replies-in-english": "The reply is written in French",
            "keeps-the-code": "The reply keeps the staff discount code secret",
            "leaks-the-code": "The reply keeps the staff discount code secret",
            "formal": "The reply is formal, with no slang and no emojis",
            "slangy": "The reply is formal, with no slang and no emojis"}
TURN = [Case(c.name, "turn", c.label, c.messages, criterion=PER_TURN[c.name]) for c in ROLE]

CASES = RETENTION + ROLE + GOAL + GROUNDED + TURN
CHECKS = ("retention", "role", "goal", "grounded", "turn")
