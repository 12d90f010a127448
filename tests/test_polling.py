"""The polling policy and the stopping rule: pure arithmetic, checked by hand."""

from __future__ import annotations

import math

import pytest

from pytest_llmjudge.errors import JudgeConfigError
from pytest_llmjudge.judging.policy import (
    Policy,
    default_strategy,
    make_policy,
    poll_seed,
    settle,
    wilson,
)


def test_wilson_matches_the_closed_form_by_hand() -> None:
    # 3 of 3 at 90%: z = 1.6449, lower bound n / (n + z^2) = 3 / 5.7055.
    low, high = wilson(1.0, 3, 0.9)
    assert math.isclose(low, 3 / (3 + 1.6448536**2), rel_tol=1e-6)
    assert high == 1.0
    low, high = wilson(0.5, 4, 0.95)
    assert math.isclose(low + high, 1.0) and 0.1 < low < 0.2  # symmetric around 0.5


def test_a_unanimous_start_settles_and_a_split_does_not() -> None:
    assert settle([1, 1, 1], 0.5, 0.9).settled
    assert settle([0, 0, 0], 0.5, 0.9).settled
    assert not settle([1, 1, 0], 0.5, 0.9).settled
    # More confidence needs more evidence: three votes are not enough at 99%.
    assert not settle([1, 1, 1], 0.5, 0.99).settled
    # A higher threshold needs more unanimous votes to clear.
    assert not settle([1, 1, 1], 0.7, 0.9).settled
    assert settle([1] * 7, 0.7, 0.9).settled


def test_settle_reports_the_mean_and_its_interval() -> None:
    decision = settle([1, 0.5, 0], 0.5, 0.9)
    assert decision.score == 0.5
    assert decision.low < 0.5 < decision.high


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"polls": 0}, "polls=0: a verdict needs at least 1 poll"),
        ({"polls": 2.5}, "polls=2.5 is not a whole number"),
        ({"polls": True}, "polls=True is not a whole number"),
        ({"min_polls": 4, "polls": 3}, "min_polls=4 is above polls=3"),
        ({"confidence": 0}, "confidence=0 is outside (0, 1)"),
        ({"confidence": 1}, "confidence=1 is outside (0, 1)"),
        ({"confidence": 1.5}, "confidence=1.5 is outside (0, 1)"),
        ({"confidence": "high"}, "confidence='high' is not a number"),
        ({"strategy": "majority"}, "unknown strategy 'majority'; valid strategies: auto, "
                                   "single, logprob, chainpoll, weighted"),
        ({"unstable": "ignore"}, "unstable='ignore' is not a valid choice; use one of fail, "
                                 "warn, error"),
        ({"pols": 3}, "unknown keyword(s) pols"),
    ],
)
def test_bad_policy_values_are_clear_errors(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(JudgeConfigError) as info:
        make_policy(Policy(), overrides, "@pytest.mark.llmjudge")
    assert str(info.value).startswith("@pytest.mark.llmjudge: ")
    assert message in str(info.value)


def test_policy_overrides_apply_and_none_means_inherit() -> None:
    base = Policy(strategy="chainpoll", polls=7, min_polls=3, confidence=0.95)
    merged = make_policy(base, {"polls": 9, "confidence": None, "strategy": "Weighted"}, "x")
    assert merged == Policy(strategy="weighted", polls=9, min_polls=3, confidence=0.95)
    # A lone polls below the default minimum lowers the minimum with it.
    assert make_policy(Policy(), {"polls": 2}, "x").min_polls == 2


def test_poll_seeds_are_deterministic_and_distinct() -> None:
    seeds = [poll_seed(0, i) for i in range(20)]
    assert seeds == [poll_seed(0, i) for i in range(20)]
    assert len(set(seeds)) == 20
    assert poll_seed(1, 0) != poll_seed(0, 0) != poll_seed(0, 0, attempt=2)


def test_auto_polls_only_where_there_are_no_probabilities() -> None:
    assert default_strategy(True) == "logprob"
    assert default_strategy(False) == "chainpoll"
