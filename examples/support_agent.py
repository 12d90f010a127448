"""A toy tool-using support agent for the examples: scripted, no network, so every run
judges the same conversation. It speaks the OpenAI chat format (messages, tool_calls,
tool results); swap ``SupportAgent.run`` for your real agent loop."""

from __future__ import annotations

import json
from typing import Any

SYSTEM_PROMPT = (
    "You are the support agent of Kettle Co. Help customers with their orders only. "
    "Look an order up before you say anything about it. Refunds need the order looked "
    "up first."
)

# The shop's order database, as the lookup_order tool returns it.
ORDERS = {
    "A1": {"status": "delivered", "item": "steel kettle", "price_eur": 30,
           "delivered_on": "2026-11-28"},
    "B7": {"status": "shipped", "item": "tea set", "price_eur": 45, "eta": "2026-12-05"},
}

Message = dict[str, Any]


def lookup_order(order_id: str) -> dict[str, Any]:
    return ORDERS.get(order_id, {"error": f"no order {order_id}"})


def issue_refund(order_id: str, amount_eur: int, reason: str) -> dict[str, Any]:
    return {"refunded_eur": amount_eur, "order_id": order_id, "status": "refund issued",
            "back_on_card_within": "5 working days"}


TOOLS = {"lookup_order": lookup_order, "issue_refund": issue_refund}


class SupportAgent:
    """Scripted turns: the first user message names an order, a later one asks for a
    refund. Two bugs are kept on purpose, so two examples fail: the first reply states
    the order's delivery date and ignores the problem the customer reported, and
    ``careless=True`` refunds without looking the order up (and asks again for the
    order number)."""

    def __init__(self, careless: bool = False) -> None:
        self.careless = careless
        self.calls = 0

    def run(self, user_turns: list[str]) -> list[Message]:
        chat: list[Message] = [{"role": "system", "content": SYSTEM_PROMPT}]
        order, problem = None, "no reason given"
        for text in user_turns:
            chat.append({"role": "user", "content": text})
            order = next((o for o in ORDERS if o in text), order)
            if "leak" in text:
                problem = "customer reports the kettle is leaking"
            if "refund" in text.lower() and order:
                if self.careless:
                    chat.append({"role": "assistant",
                                 "content": "Sure. What is your order number?"})
                else:
                    self._call(chat, "lookup_order", order_id=order)
                price = ORDERS[order]["price_eur"]
                refund = self._call(chat, "issue_refund", order_id=order, amount_eur=price,
                                    reason=problem)
                chat.append({"role": "assistant", "content": (
                    f"Refund issued: {price} euros for order {order}. It will be back on "
                    f"your card within {refund['back_on_card_within']}.")})
            elif order:
                found = self._call(chat, "lookup_order", order_id=order)
                chat.append({"role": "assistant", "content": (
                    f"Order {order} ({found['item']}) was delivered on "
                    f"{found['delivered_on']}." if found["status"] == "delivered" else
                    f"Your {found['item']} (order {order}) has shipped and should arrive "
                    f"on {found['eta']}.")})
            else:
                chat.append({"role": "assistant",
                             "content": "Happy to help! What is your order number?"})
        return chat

    def _call(self, chat: list[Message], name: str, **args: Any) -> dict[str, Any]:
        self.calls += 1
        call_id = f"call_{self.calls}"
        chat.append({"role": "assistant", "content": None, "tool_calls": [{
            "id": call_id, "type": "function",
            "function": {"name": name, "arguments": json.dumps(args)}}]})
        result: dict[str, Any] = TOOLS[name](**args)
        chat.append({"role": "tool", "tool_call_id": call_id, "content": json.dumps(result)})
        return result
