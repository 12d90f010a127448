"""Reading P(YES) out of OpenAI-format top_logprobs, whatever the tokenizer merged."""

from __future__ import annotations

import math
from types import SimpleNamespace as NS

import pytest

from pytest_llmjudge.backends.logprobs import completion_from
from pytest_llmjudge.errors import JudgeReplyError
from pytest_llmjudge.judging.reply_formats import VERDICT_REPLY


def _response(tokens: list[tuple[str, list[tuple[str, float]]]]) -> NS:
    content = [NS(token=t, top_logprobs=[NS(token=a, logprob=lp) for a, lp in tops])
               for t, tops in tokens]
    text = "".join(t for t, _ in tokens)
    return NS(choices=[NS(message=NS(content=text), logprobs=NS(content=content))],
              usage=NS(prompt_tokens=12, completion_tokens=len(tokens)))


def test_probability_read_where_the_answer_starts() -> None:
    response = _response([
        ('{"', []), ("answer", []), ('":', []), (' "', []),
        ("Y", [("No", math.log(0.2)), ("Yes", math.log(0.3)), ("Y", math.log(0.1)),
               ("Sure", math.log(0.3))]),
        ("ES", []), ('",', []), (' "reason": "', []), ("fine", []), ('"}', []),
    ])
    completion = completion_from(response, VERDICT_REPLY, cost=None)
    assert completion.choice_probs["answer"]["YES"] == pytest.approx(0.4 / 0.6)
    assert completion.prompt_tokens == 12 and completion.completion_tokens == 10


def test_token_that_merges_the_quote_and_the_answer() -> None:
    response = _response([
        ('{"answer":', []),
        (' "NO', [(' "NO', math.log(0.5)), (' "YES', math.log(0.25)), (' "Maybe', -1.0)]),
        ('", "reason": "rude"}', []),
    ])
    probs = completion_from(response, VERDICT_REPLY, cost=0.002).choice_probs["answer"]
    assert probs == {"YES": pytest.approx(1 / 3), "NO": pytest.approx(2 / 3)}


def test_no_logprobs_means_no_probabilities() -> None:
    response = NS(choices=[NS(message=NS(content='{"answer": "YES", "reason": "ok"}'),
                              logprobs=None)], usage=None)
    completion = completion_from(response, VERDICT_REPLY, cost=None)
    assert completion.choice_probs == {} and completion.prompt_tokens == 0


def test_reply_without_choices_is_a_reply_error() -> None:
    with pytest.raises(JudgeReplyError, match="no message content"):
        completion_from(NS(choices=[]), VERDICT_REPLY, cost=None)
