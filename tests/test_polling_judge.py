"""Polling on a real model (the 135M mechanics judge): seeds, replay, adaptive prefixes,
and the grounded/correct helpers end to end. Judging quality is not under test here."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pytest_llmjudge.backends import create_backend
from pytest_llmjudge.config.settings import Settings
from pytest_llmjudge.judging.judge import Judge
from pytest_llmjudge.judging.policy import Policy
from pytest_llmjudge.judging.requests import make_request
from pytest_llmjudge.judging.verdict import Verdict, Vote

pytestmark = pytest.mark.mechanics

MECHANICS_MODEL = "smollm2-135m"
CONTEXT = "The Larkspur Library opens at 9am on weekdays and at 10am on Saturdays."


@pytest.fixture(scope="module")
def judges() -> Iterator[dict[int, Judge]]:
    """Two judges over one loaded model, differing only in their seed."""
    settings = {seed: Settings(model=MECHANICS_MODEL, n_ctx=2048, seed=seed) for seed in (0, 1)}
    backend = create_backend(settings[0].backend_config())
    yield {seed: Judge(backend, s) for seed, s in settings.items()}
    backend.close()


def _grounded(judge: Judge, response: str, policy: Policy) -> Verdict:
    return judge.evaluate(make_request(
        response, "grounded", None, 0.5, task="grounded",
        inputs=[("context", CONTEXT), ("question_text", "When does it open on Saturdays?")],
        policy=policy))


def _polls(verdict: Verdict) -> list[tuple[str, str, float | None, int]]:
    return [(v.answer, v.reason, v.p_yes, v.seed) for v in verdict.votes]


FIXED = Policy(strategy="chainpoll", polls=5, min_polls=5)


def test_polls_replay_exactly_with_the_same_seed(judges: dict[int, Judge]) -> None:
    first = _grounded(judges[0], "At 10am.", FIXED)
    _grounded(judges[0], "Something else, to move the model's cached state.", FIXED)
    again = _grounded(judges[0], "At 10am.", FIXED)
    assert first.polls == 5 and _polls(first) == _polls(again)


def test_a_different_seed_draws_different_polls(judges: dict[int, Judge]) -> None:
    seed0 = _grounded(judges[0], "At 10am.", FIXED)
    seed1 = _grounded(judges[1], "At 10am.", FIXED)
    assert {v.seed for v in seed0.votes}.isdisjoint(v.seed for v in seed1.votes)
    assert [v.reason for v in seed0.votes] != [v.reason for v in seed1.votes]


@pytest.mark.parametrize("response", ["At 10am.", "At 7am, and entry costs two pounds."])
def test_adaptive_votes_are_the_prefix_of_fixed_votes(judges: dict[int, Judge],
                                                      response: str) -> None:
    # What makes adaptive polling replayable (and benchmarks/accuracy.py's adaptive
    # figures valid): poll k is the same poll whether or not polling stopped before it.
    fixed = _grounded(judges[0], response, FIXED)
    adaptive = _grounded(judges[0], response, Policy(strategy="chainpoll", polls=5))
    assert 3 <= adaptive.polls <= 5
    assert _polls(adaptive) == _polls(fixed)[: adaptive.polls]


def test_every_poll_is_a_chain_of_thought_vote(judges: dict[int, Judge]) -> None:
    verdict = _grounded(judges[0], "At 10am.", Policy(strategy="weighted", polls=3))
    assert verdict.strategy == "weighted" and verdict.polls == 3
    assert all(isinstance(v, Vote) and v.p_yes is not None and v.reason for v in verdict.votes)
    assert verdict.score == pytest.approx(sum(v.p_yes or 0 for v in verdict.votes) / 3)
    assert verdict.prompt_version.startswith("grounded.v1@")
    assert verdict.prompt_version.endswith("#cot")
    low, high = verdict.interval or (2.0, 2.0)
    assert 0 <= low <= verdict.score <= high <= 1
    assert verdict.attempts >= 3 and verdict.completion_tokens > 3 * 5


def test_a_rating_scale_scores_the_expected_rating(judges: dict[int, Judge]) -> None:
    request = make_request("Thanks so much for your help!", "The reply is polite", None, 0.5,
                           scale=5)
    verdict = judges[0].evaluate(request)
    vote = verdict.votes[0]
    assert verdict.scale == 5 and vote.answer in ("1", "2", "3", "4", "5")
    assert vote.p_yes is not None and verdict.score == vote.p_yes and 0 <= vote.p_yes <= 1
    assert verdict.prompt_version.endswith("#direct scale")
    polled = judges[0].evaluate(make_request(
        "Thanks so much for your help!", "The reply is polite", None, 0.5, scale=5,
        policy=Policy(strategy="chainpoll", polls=3)))
    # A polled rating scores the mean of the ratings written, each mapped onto 0..1.
    assert polled.score == pytest.approx(
        sum((int(v.answer) - 1) / 4 for v in polled.votes) / 3)


def test_grounded_and_correct_helpers_end_to_end(judged: pytest.Pytester) -> None:
    judged.makepyfile(f"""
        from pytest_llmjudge import assert_correct, assert_grounded

        def test_grounded():
            # Threshold 0 passes any score: this checks the plumbing, not the 135M judge.
            verdict = assert_grounded("At 10am.", context={CONTEXT!r},
                                      question="When does it open?", threshold=0)
            assert verdict.prompt_version.startswith("grounded.v1@")
            assert verdict.criterion == "Every claim in the response is supported by the context"

        def test_grounded_without_question():
            verdict = assert_grounded("It opens at 10am on Saturdays.", context={CONTEXT!r},
                                      threshold=0, strategy="chainpoll", polls=3)
            assert verdict.polls == 3

        def test_correct_with_reference():
            verdict = assert_correct("Jane Austen", question="Who wrote Emma?",
                                     reference="Jane Austen", threshold=0)
            assert verdict.prompt_version.startswith("correct.v1@")

        def test_polled_failure_shows_the_votes():
            assert_grounded("At 10am.", context={CONTEXT!r}, threshold=1.0,
                            strategy="chainpoll", polls=3)
    """)
    result = judged.runpytest()
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(["E *votes: */3 YES (chainpoll)*"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("assert_grounded('At 10am.', context='')",
         "assert_grounded(): context must be a non-empty str, got ''"),
        ("assert_grounded('At 10am.', context='c', question=3)",
         "assert_grounded(): question must be a non-empty str, got 3; leave it out"),
        ("assert_correct('Paris', question=None)",
         "assert_correct(): question must be a non-empty str, got None"),
        ("assert_grounded('At 10am.', context='c', polls=0)",
         "assert_grounded(): polls=0: a verdict needs at least 1 poll"),
        ("assert_correct('Paris', question='Capital?', strategy='best')",
         "assert_correct(): unknown strategy 'best'"),
    ],
)
def test_bad_helper_arguments_are_errors(judged: pytest.Pytester, call: str,
                                         message: str) -> None:
    judged.makepyfile(f"""
        from pytest_llmjudge import assert_correct, assert_grounded

        def test_bad():
            {call}
    """)
    result = judged.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"E *JudgeConfigError: {message}*"])


def test_a_context_too_long_for_the_window_is_an_error_with_token_counts(
    judged: pytest.Pytester,
) -> None:
    judged.makepyfile(f"""
        from pytest_llmjudge import assert_grounded

        def test_long_context():
            assert_grounded("At 10am.", context={CONTEXT!r} * 60, strategy="chainpoll")
    """)
    result = judged.runpytest("--llmjudge-n-ctx=1024")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*ContextOverflowError: the judge prompt needs * tokens plus up to 320 reply tokens, "
        "more than the model's context window of 1024*nothing is truncated silently*",
    ])
