"""A toy customer-support bot for the examples: its answers are deterministic, so every
run judges the same replies; its greeting varies from call to call, as a sampled LLM's
reply does. Swap ``SupportBot.answer`` for a call to your real LLM app."""

from __future__ import annotations

import random
from dataclasses import dataclass

RETURN_DAYS = 30

# The help-centre page the bot's return answers must stay grounded in.
RETURN_POLICY = (
    f"Returns: unworn items can be returned within {RETURN_DAYS} days of delivery for a full "
    "refund. Return labels are free: print one from your account page. Parcels can be "
    "dropped off at any post office. Sale items can be exchanged but not refunded."
)


@dataclass(frozen=True)
class Intent:
    keywords: tuple[str, ...]
    reply: str


# First match wins, so the specific intents come before the generic order question.
INTENTS = (
    Intent(("où", "commande", "bonjour"),
           "Bonjour ! Merci pour votre message. Pourriez-vous m'indiquer votre numéro de "
           "commande afin que je vérifie où en est votre colis ?"),
    Intent(("damaged", "broken", "cracked"),
           "I'm so sorry your order arrived damaged. We can send you a replacement or refund "
           "you in full, whichever you prefer: just reply with a photo of the damage."),
    Intent(("gift card", "voucher"),
           "I'm sorry, I don't have any information about gift cards, so I can't say whether "
           "we sell them. Our help centre team can tell you."),
    Intent(("late", "delayed", "still"),
           "I'm really sorry your delivery is late; that's not the experience we want for you. "
           "I've flagged it with our courier and you'll get an update by email."),
    Intent(("return", "send back"),
           f"You can return any unworn item within {RETURN_DAYS} days of delivery for a full "
           "refund. Print the free return label from your account page and drop the parcel "
           "off at any post office."),
    # Known bug, kept on purpose so an example fails: the shipping reply promises a date.
    Intent(("ship", "deliver", "arrive"),
           "Great news: your order will arrive tomorrow before noon, guaranteed."),
    Intent(("where", "order", "parcel", "package"),
           "Thanks for getting in touch! I'm happy to look into this for you. Could you send me "
           "your order number so I can check where your parcel is?"),
)

# What the bot knows about the shop; it does not cover gift cards.
SHOP_FAQ = (
    "We sell shoes, boots and sandals for adults and children. Standard delivery takes 3-5 "
    "working days and is free on orders over 50 euros. Returns are free within 30 days."
)

# Known bug, kept on purpose so an example fails: the fallback is curt and offers no help.
FALLBACK = "I don't understand. Try again."


# The opening line, drawn at random like a reply sampled at a temperature above 0.
GREETINGS = (
    "Hi there! Thanks for contacting Step Shoes support. How can I help you today?",
    "Hello, and welcome to Step Shoes! What can I do for you?",
    "Good to hear from you! I'm the Step Shoes assistant: ask me about orders, "
    "deliveries or returns.",
)


class SupportBot:
    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed)

    def greet(self) -> str:
        return self._random.choice(GREETINGS)

    def answer(self, message: str) -> str:
        text = message.lower()
        for intent in INTENTS:
            if any(word in text for word in intent.keywords):
                return intent.reply
        return FALLBACK
