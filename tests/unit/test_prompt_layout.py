"""Prompts are laid out shared part first: everything that does not change between
calls (system text and reply format, then context, question, criterion or instruction)
comes before the text that does, and no section's tag depends on another's text. A
local model's KV cache then holds the shared part for the next call
(tests/test_llamacpp_backend.py measures that it does)."""

from __future__ import annotations

import pytest

from pytest_llmjudge.config.settings import Settings
from pytest_llmjudge.judging.judge import Judge
from pytest_llmjudge.judging.requests import make_request

pytestmark = pytest.mark.unit
CONTEXT = "The shop opens at 9am and closes at 5pm. Delivery is free over 50 euros."


class Unused:
    judge_id = "stub:layout"
    model_name = "stub"

    def complete(self, request: object) -> object:
        raise AssertionError("rendering only")

    def close(self) -> None:
        pass


def _shared(first: str, second: str) -> str:
    """The longest common prefix of two texts."""
    length = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        length += 1
    return first[:length]


def _rendered(task: str, output: str, criterion: str = "It is right",
              inputs: tuple[tuple[str, str | None], ...] = ()) -> tuple[str, str]:
    judge = Judge(Unused(), Settings())  # type: ignore[arg-type]
    request = make_request(output, criterion, 0.5, task=task, inputs=inputs)
    (system, user), _ = judge.render(request, "direct")
    return system.content, user.content


@pytest.mark.parametrize(("task", "inputs"), [
    ("grounded", (("context", CONTEXT), ("question_text", "When does it open?"))),
    ("claim", (("context", CONTEXT), ("question_text", None), ("response", "x"))),
    ("correct", (("question_text", "When does it open?"), ("reference", "At 9am."))),
    ("abstention", (("question_text", "When does it open?"), ("context", CONTEXT))),
])
def test_answers_judged_alike_share_everything_before_the_answer(
        task: str, inputs: tuple[tuple[str, str | None], ...]) -> None:
    first = _rendered(task, "It opens at 9am.", inputs=inputs)
    second = _rendered(task, "No idea, sorry.", inputs=inputs)
    assert first[0] == second[0]  # the system text names no tag
    shared = _shared(first[1], second[1])
    for name, text in inputs:
        if text is not None and name != "response":  # a claim's response is not shown
            assert text in shared, (task, name)
    # The judged answer's own section is where they part: at its tag.
    assert shared.rsplit("\n", 1)[-1] in ("<response_output_", "<claim_output_", "<answer_output_")


def test_items_of_one_checklist_share_the_response() -> None:
    inputs = (("instruction", "Reply to the customer."),)
    first = _rendered("checklist", "Sorry about the delay.", "Says sorry", inputs)
    second = _rendered("checklist", "Sorry about the delay.", "Is short", inputs)
    shared = _shared(first[1], second[1])
    assert "Sorry about the delay." in shared and "Reply to the customer." in shared

