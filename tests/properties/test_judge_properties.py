"""Properties of the judge's own parsing and scoring (issue 15's fuzzing harness):
whatever a judge replies, with whatever probabilities, the result is a verdict with a
score in [0, 1] or a JudgeError. Never another exception, never a pass from a reply
that does not fit the format.

The backend here is an in-process stub that hands back the drawn reply: these are
properties of the code around a judge, not evidence that judging works."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_llmjudge.backends.base import Completion, CompletionRequest
from pytest_llmjudge.config.settings import Settings
from pytest_llmjudge.errors import JudgeError, JudgeReplyError
from pytest_llmjudge.judging import requests
from pytest_llmjudge.judging.judge import Judge
from pytest_llmjudge.judging.policy import Policy
from pytest_llmjudge.judging.reply_formats import explaining, fits, parse_reply, reply_spec

pytestmark = pytest.mark.unit
FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
SPECS = [reply_spec("direct"), reply_spec("cot"), reply_spec("direct", scale=5),
         reply_spec("direct", pair=True), reply_spec("direct", reason=False),
         explaining(reply_spec("direct"), "NO")]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12)


@FAST
@given(text=st.text() | json_values.map(json.dumps), spec=st.sampled_from(SPECS))
def test_any_reply_text_parses_or_is_a_reply_error(text: str, spec: Any) -> None:
    try:
        reply = parse_reply(text, spec)
    except JudgeReplyError:
        return
    choices = next(f.choices for f in spec.fields if hasattr(f, "choices"))
    assert reply.answer in choices


replies = st.fixed_dictionaries(
    {}, optional={"answer": st.sampled_from(["YES", "NO", "A", "3", "yes", 1, None]),
                  "reason": st.text(max_size=410) | st.integers(),
                  "reasoning": st.text(max_size=490), "rating": st.sampled_from(["1", "5", "6"]),
                  "other": json_values})


@FAST
@given(data=replies | json_values, spec=st.sampled_from(SPECS))
def test_the_quick_reply_check_never_accepts_what_the_schema_refuses(data: Any,
                                                                      spec: Any) -> None:
    import jsonschema

    if fits(data, spec):
        jsonschema.validate(data, spec.json_schema())


def test_pathological_json_is_a_reply_error() -> None:
    for text in ("[" * 100_000, "1" * 5000, '{"answer": ' + "9" * 5000 + "}"):
        with pytest.raises(JudgeReplyError):
            parse_reply(text, SPECS[0])


class Replying:
    """Hands back one drawn reply for every call."""

    judge_id = "stub:property"
    model_name = "stub"
    supports_logprobs = True

    def __init__(self, completion: Completion) -> None:
        self.completion = completion

    def complete(self, request: CompletionRequest) -> Completion:
        return self.completion

    def close(self) -> None:
        return None


probabilities = (st.floats(min_value=-1.0, max_value=2.0) | st.floats()
                 | st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]))


@st.composite
def drawn_replies(draw: st.DrawFn, scale: int | None) -> tuple[str, dict[str, Any]]:
    """A reply and its probabilities: mostly of the right shape, so the scoring is
    reached, with values anywhere (2.0 and -1.0 add up to 1 too)."""
    field, choices = ("answer", ["YES", "NO"]) if scale is None else (
        "rating", [str(n) for n in range(1, scale + 1)])
    wrong = ["MAYBE", "9", "A", ""]
    answer = draw(st.sampled_from(choices) | st.sampled_from(wrong))
    text = draw(st.just(json.dumps({field: answer, "reasoning": "r", "reason": "r"}))
                | st.just(json.dumps({field: answer, "reason": "r"})) | st.text())
    keys = st.sampled_from(choices) | st.sampled_from(wrong)
    x = draw(st.floats(min_value=-2.0, max_value=3.0) | st.sampled_from([0.0, 0.3, 1.0]))
    values = draw(st.just({choices[0]: x, choices[-1]: 1.0 - x})
                  | st.dictionaries(keys, probabilities, max_size=4))
    probs = draw(st.just({field: values}) | st.just({}) | st.just({"other": values}))
    return text, probs


@FAST
@given(data=st.data(), scale=st.sampled_from([None, 5]),
       strategy=st.sampled_from(["logprob", "single", "chainpoll", "weighted"]))
def test_any_reply_and_probabilities_give_a_bounded_score_or_an_error(
    data: st.DataObject, scale: int | None, strategy: str,
) -> None:
    text, probs = data.draw(drawn_replies(scale))
    judge = Judge(Replying(Completion(text, probs)), Settings(retries=0, polls=3, min_polls=3))
    request = requests.judged("a reply", "The reply is polite", threshold=None,  # type: ignore[arg-type]
                              policy=Policy(strategy=strategy, polls=3, min_polls=3),
                              scale=scale)
    try:
        verdict = judge.evaluate(request)
    except JudgeError:
        return
    assert math.isfinite(verdict.score) and 0.0 <= verdict.score <= 1.0
    # A verdict was reached, so the reply fit the format it was asked for.
    spec = reply_spec("cot" if verdict.strategy in ("chainpoll", "weighted") else "direct",
                      scale)
    parse_reply(text, spec)


any_text = st.text() | st.text(st.characters(whitelist_categories=("Cc", "Cf", "Cs", "Zs")))


@FAST
@given(output=any_text, other=any_text,
       kind=st.sampled_from(["judged", "grounded", "correct", "abstention", "checklist"]),
       mode=st.sampled_from(["direct", "cot"]))
def test_any_text_renders_into_a_prompt_or_is_a_config_error(
    output: str, other: str, kind: str, mode: str,
) -> None:
    """Prompt rendering never meets a text it cannot write: what the request builders
    accept encodes to UTF-8 in every message."""
    from pytest_llmjudge.config.thresholds import Threshold
    from pytest_llmjudge.errors import JudgeConfigError

    threshold, policy = Threshold(0.5, "default"), Policy()
    build = {
        "judged": lambda: requests.judged(output, other, threshold, policy),
        "grounded": lambda: requests.grounded(output, other, None, threshold, policy),
        "correct": lambda: requests.correct(output, other, None, threshold, policy),
        "abstention": lambda: requests.abstention(output, other, None, requests.ABSTAINS,
                                                  threshold, policy),
        "checklist": lambda: requests.checklist_item(output, other, None, threshold, policy),
    }[kind]
    try:
        request = build()
    except JudgeConfigError:
        return
    judge = Judge(Replying(Completion("{}", {})), Settings())
    messages, untrusted = judge.render(request, mode)
    for message in messages:
        message.content.encode("utf-8")
    assert all(isinstance(t, str) for t in untrusted)
