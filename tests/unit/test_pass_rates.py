"""Pass rates of sampled tests: the decision rule and Fisher's exact test, against
values computed by hand."""

from __future__ import annotations

import math

import pytest

from pytest_llmjudge.errors import JudgeConfigError
from pytest_llmjudge.judging.pass_rates import (
    decide,
    fisher_drop,
    needed,
    parse_min_pass_rate,
    parse_samples,
)

pytestmark = pytest.mark.unit


def test_fisher_drop_against_hand_computed_hypergeometric_tails() -> None:
    # 6/10 now against 9/10 then: 15 passes in 20 samples, 10 drawn for "now".
    # P(X <= 6) = [C(15,5)C(5,5) + C(15,6)C(5,4)] / C(20,10) = (3003 + 25025) / 184756.
    assert fisher_drop(6, 10, 9, 10) == pytest.approx(28028 / 184756)
    # 2/10 against 10/10: P(X <= 2) with 12 passes in 20 = C(12,2)C(8,8) / C(20,10).
    assert fisher_drop(2, 10, 10, 10) == pytest.approx(66 / 184756)
    # No drop at all: every outcome is at most this extreme.
    assert fisher_drop(10, 10, 5, 10) == pytest.approx(1.0)
    # Unequal sizes: 1/4 against 3/3: P(X <= 1), 4 passes in 7, 4 drawn.
    assert fisher_drop(1, 4, 3, 3) == pytest.approx(
        (math.comb(4, 1) * math.comb(3, 3)) / math.comb(7, 4))


@pytest.mark.parametrize(("k", "n"), [(-1, 10), (11, 10), (0, 0)])
def test_fisher_drop_refuses_what_is_not_a_rate(k: int, n: int) -> None:
    with pytest.raises(ValueError, match="is not a pass rate"):
        fisher_drop(k, n, 5, 10)


def test_the_bar_is_reached_by_count_and_rounding_does_not_move_it() -> None:
    assert needed(0.8, 10) == 8  # 0.8 * 10 is 8.000000000000002 in floats
    assert needed(0.75, 10) == 8 and needed(1.0, 3) == 3 and needed(0.01, 10) == 1


def test_a_pass_stops_as_soon_as_the_remaining_samples_cannot_undo_it() -> None:
    running = decide([True] * 7, 10, 0.8, 0.95)
    assert running.outcome == "RUNNING" and not running.settled
    done = decide([True] * 8, 10, 0.8, 0.95)
    assert done.outcome == "PASS" and done.samples == 8


def test_a_failure_needs_the_bar_out_of_reach_and_the_interval_below_it() -> None:
    # 0 of 1: the interval (upper 0.79) is below 0.8, but 9 passes of the 9 samples
    # left would still meet the bar of 8: the test goes on.
    assert decide([False], 10, 0.8, 0.95).outcome == "RUNNING"
    # 0 of 2: 8 left can still give the 8 needed.
    assert decide([False] * 2, 10, 0.8, 0.95).outcome == "RUNNING"
    # 0 of 3: out of reach (0 + 7 < 8), and the Wilson 95% upper bound 0.56 < 0.8.
    early = decide([False] * 3, 10, 0.8, 0.95)
    assert early.outcome == "FAIL" and early.high == pytest.approx(0.5615, abs=1e-3)
    # 7 of 10 at a bar of 0.9: out of reach (9 needed), but the interval (upper 0.89)
    # sits just below 0.9 -> FAIL; 8 of 10 reaches 0.94 -> UNSTABLE.
    assert decide([True] * 7 + [False] * 3, 10, 0.9, 0.95).outcome == "FAIL"
    assert decide([True] * 8 + [False] * 2, 10, 0.9, 0.95).outcome == "UNSTABLE"
    # 1 of 3 at a bar of 0.9 is out of reach, with an upper bound of 0.79: FAIL.
    assert decide([False, True, False], 10, 0.9, 0.95).outcome == "FAIL"
    # 6 of 10: interval 0.31-0.83 straddles 0.8: below the bar, not significantly.
    straddle = decide([True] * 6 + [False] * 4, 10, 0.8, 0.95)
    assert straddle.outcome == "UNSTABLE"
    assert (round(straddle.low, 2), round(straddle.high, 2)) == (0.31, 0.83)
    assert straddle.describe() == "pass rate 6/10 (0.60, 95% interval 0.31-0.83) against 0.8"
    # 3 of 10: upper bound 0.60.
    assert decide([True] * 3 + [False] * 7, 10, 0.8, 0.95).outcome == "FAIL"


def test_one_sample_is_the_single_sample_test() -> None:
    assert decide([True], 1, 0.8, 0.95).outcome == "PASS"
    # 0 of 1: the interval reaches 0.79, just below 0.8.
    assert decide([False], 1, 0.8, 0.95).outcome == "FAIL"
    assert decide([False], 1, 0.5, 0.95).outcome == "UNSTABLE"


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10", None])
def test_a_bad_number_of_samples_is_an_error(bad: object) -> None:
    with pytest.raises(JudgeConfigError, match="is not a number of runs"):
        parse_samples(bad, "@pytest.mark.llmjudge_sample")


@pytest.mark.parametrize("bad", [0, 0.0, -0.1, 1.01, float("nan"), True, "0.8"])
def test_a_bad_min_pass_rate_is_an_error(bad: object) -> None:
    with pytest.raises(JudgeConfigError, match="is not a share of runs"):
        parse_min_pass_rate(bad, "@pytest.mark.llmjudge_sample")
    assert parse_min_pass_rate(1, "m") == 1.0
