"""Hand-written grounding and correctness cases whose verdict is clear.

Written for this project (not taken from any benchmark): each context is short, and
each unsupported response differs from a supported one in one checkable fact or
adds one claim the context does not make.
"""

from __future__ import annotations

from dataclasses import dataclass

LIBRARY = ("The Larkspur Library opens at 9am on weekdays and at 10am on Saturdays. It is "
           "closed on Sundays. Members can borrow up to 12 books at a time, for three weeks.")
KETTLE = ("The Model K2 kettle holds 1.7 litres and boils a full tank in about four minutes. "
          "It switches itself off when the water boils. Its warranty lasts two years.")
BRIDGE = ("Engineers closed the Harlow footbridge on Monday after inspectors found cracks in "
          "two of its steel supports. The council said repairs would take about six weeks and "
          "that a ferry will carry pedestrians across the river in the meantime.")



@dataclass(frozen=True)
class Grounding:
    name: str
    context: str
    question: str | None
    response: str
    grounded: bool


GROUNDING = [
    Grounding("saturday-hours", LIBRARY, "When does the library open on Saturdays?",
              "It opens at 10am on Saturdays.", True),
    Grounding("saturday-hours-wrong", LIBRARY, "When does the library open on Saturdays?",
              "It opens at 8am on Saturdays.", False),
    Grounding("loans", LIBRARY, "How many books can a member borrow?",
              "Up to 12 books at a time, for three weeks.", True),
    Grounding("loans-invented-fee", LIBRARY, "How many books can a member borrow?",
              "Up to 12 books, and late returns cost 50 cents a day.", False),
    Grounding("warranty", KETTLE, "How long is the kettle's warranty?",
              "The K2 comes with a two-year warranty.", True),
    Grounding("warranty-wrong", KETTLE, "How long is the kettle's warranty?",
              "The K2 comes with a five-year warranty.", False),
    Grounding("summary", BRIDGE, None,
              "The Harlow footbridge is closed for about six weeks of repairs to cracked "
              "supports, and a ferry carries pedestrians meanwhile.", True),
    Grounding("summary-invented-cause", BRIDGE, None,
              "The Harlow footbridge closed after a lorry crashed into it, and it will reopen "
              "next year.", False),
]


@dataclass(frozen=True)
class Correctness:
    name: str
    question: str
    reference: str | None
    answer: str
    correct: bool


CORRECTNESS = [
    Correctness("author", "Who wrote the novel Pride and Prejudice?", "Jane Austen",
                "It was written by Jane Austen.", True),
    Correctness("author-wrong", "Who wrote the novel Pride and Prejudice?", "Jane Austen",
                "It was written by Charlotte Bronte.", False),
    Correctness("capital", "What is the capital of Australia?", None,
                "Canberra is the capital of Australia.", True),
    Correctness("capital-wrong", "What is the capital of Australia?", None,
                "Sydney is the capital of Australia.", False),
    Correctness("boiling", "At what temperature does water boil at sea level, in Celsius?",
                None, "Water boils at 100 degrees Celsius at sea level.", True),
    Correctness("boiling-wrong", "At what temperature does water boil at sea level, in "
                "Celsius?", None, "Water boils at 50 degrees Celsius at sea level.", False),
]
