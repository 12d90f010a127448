"""Adaptive polling, UNSTABLE verdicts, markers and explanations, around a scripted
backend plugged in through the public hook.

The stub answers poll *i* (recognised by its seed) with a scripted vote, so the
stopping rule can be driven through exact sequences. It proves the plumbing only;
tests/test_polling_judge.py runs the same machinery on a real model.
"""

from __future__ import annotations

import json

import pytest
from stub_backend import stub_conftest


def _project(pytester: pytest.Pytester, votes: str, test: str, probs: bool = False) -> None:
    pytester.makeconftest(stub_conftest("votes", votes=votes, logprobs=probs))
    pytester.makepyfile(test)


ASSERT = """
    import pytest
    from pytest_llmjudge import assert_judged

    def test_judged():
        assert_judged("Hello there", "The reply is polite", strategy="chainpoll"{extra})
"""


def test_a_unanimous_start_stops_at_the_minimum(pytester: pytest.Pytester) -> None:
    _project(pytester, "YYYYYYY", ASSERT.format(extra=""))
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["stub calls: 3"])


def test_a_unanimous_no_fails_with_its_votes(pytester: pytest.Pytester) -> None:
    _project(pytester, "NNNNN", ASSERT.format(extra=""))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E   *judged assertion failed: score 0.000 < threshold 0.50 (90% interval 0.00-0.47)",
        "E *votes: 0/3 YES (chainpoll); a reason for NO:",
        "E *poll 1 thinks NO",
        "stub calls: 3",
    ])
    assert "dissenting" not in result.stdout.str()


def test_a_split_widens_to_the_maximum_and_is_unstable(pytester: pytest.Pytester) -> None:
    _project(pytester, "YYNYYYY", ASSERT.format(extra=""))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E   *judged assertion UNSTABLE: score 0.800, but its 90% interval 0.44-0.95 still "
        "straddles the threshold 0.50 after 5 polls (the maximum)",
        "E *votes: 4/5 YES (chainpoll); a reason for YES:",
        "E *dissenting votes (1):",
        "E *poll 3: NO: poll 3 thinks NO",
        "stub calls: 5",
        "judged assertions: 0 passed, 0 failed, 1 UNSTABLE; 0 judge error(s)",
    ])


def test_a_split_that_recovers_stops_once_settled(pytester: pytest.Pytester) -> None:
    # 2/3 is unsettled; with polls=9 the YES votes that follow settle it at 6/7.
    _project(pytester, "YNYYYYYYY", ASSERT.format(extra=", polls=9"))
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["stub calls: 7"])


def test_unstable_can_pass_with_a_warning(pytester: pytest.Pytester) -> None:
    _project(pytester, "YYNYY", ASSERT.format(extra=", unstable='warn'"))
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*UnstableVerdictWarning: judged assertion UNSTABLE*"])


def test_unstable_can_be_an_error(pytester: pytest.Pytester) -> None:
    _project(pytester, "YYNYY", ASSERT.format(extra=", unstable='error'"))
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["E   *UnstableVerdictError: judged assertion UNSTABLE*"])


def test_the_marker_sets_the_policy_and_call_keywords_win(pytester: pytest.Pytester) -> None:
    _project(pytester, "YYNYYYY", """
        import pytest
        from pytest_llmjudge import assert_judged

        pytestmark = pytest.mark.llmjudge(strategy="chainpoll", polls=4, unstable="warn")

        def test_marker_policy():
            verdict = assert_judged("Hello there", "The reply is polite")
            assert (verdict.strategy, verdict.polls, verdict.unstable) == ("chainpoll", 4, True)

        def test_call_keyword_wins():
            verdict = assert_judged("Hello there", "The reply is polite", polls=3,
                                    unstable="fail", threshold=0.6)
            assert False, "not reached: 2/3 is unsettled and unstable='fail'"
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1, warnings=1)
    result.stdout.fnmatch_lines(["*UNSTABLE*threshold 0.60 after 3 polls*"])


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("polls=0", "@pytest.mark.llmjudge: polls=0: a verdict needs at least 1 poll"),
        ("polls=2, min_polls=3", "min_polls=3 is above polls=2 (the maximum)"),
        ("confidence=1.0", "confidence=1.0 is outside (0, 1)"),
        ("strategy='vote'", "unknown strategy 'vote'"),
        ("reasons='sometimes'", "reasons='sometimes' is not a valid choice; use one of "
                                "failures, all, none"),
        ("'chainpoll'", "@pytest.mark.llmjudge takes keywords only"),
    ],
)
def test_a_bad_marker_is_an_error_naming_it(pytester: pytest.Pytester, marker: str,
                                            message: str) -> None:
    _project(pytester, "YYY", f"""
        import pytest
        from pytest_llmjudge import assert_judged

        @pytest.mark.llmjudge({marker})
        def test_judged():
            assert_judged("Hello there", "The reply is polite")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"E   *JudgeConfigError: *{message}*", "stub calls: 0"])


def test_reasons_change_nothing_for_a_polled_verdict(pytester: pytest.Pytester) -> None:
    _project(pytester, "YYY", """
        from pytest_llmjudge import assert_judged

        def test_polled():
            verdict = assert_judged("Hello there", "The reply is polite", threshold=0.5,
                                    strategy="chainpoll", reasons="none")
            assert verdict.reasoned and verdict.reasoning.startswith("poll ")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["stub calls: 3"])  # the polls, and no reason call


def test_a_bad_call_keyword_for_reasons_is_an_error(pytester: pytest.Pytester) -> None:
    _project(pytester, "Y", """
        from pytest_llmjudge import assert_grounded

        def test_judged():
            assert_grounded("Hello", context="Hello", reasons="often")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["E   *JudgeConfigError: assert_grounded(): reasons='often' "
                                 "is not a valid choice; use one of failures, all, none*",
                                 "stub calls: 0"])


def test_auto_polls_votes_from_a_backend_without_probabilities(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, "YYY", """
        from pytest_llmjudge import assert_judged

        def test_judged():
            verdict = assert_judged("Hello there", "The reply is polite")
            assert verdict.strategy == "chainpoll" and verdict.yes_votes == 3
    """)
    pytester.runpytest().assert_outcomes(passed=1)


@pytest.mark.parametrize("strategy", ["logprob", "weighted"])
def test_a_probability_strategy_on_a_backend_without_them_is_refused(
    pytester: pytest.Pytester, strategy: str,
) -> None:
    _project(pytester, "YYY", ASSERT.replace("chainpoll", strategy).format(extra=""))
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        f"E   *LogprobsUnavailableError: strategy '{strategy}' scores with P(YES), but "
        "stub:scripted returned no log-probabilities*strategy='chainpoll'*",
        "stub calls: 0",  # refused before any call
    ])


def test_weighted_scores_each_poll_by_its_probability(pytester: pytest.Pytester) -> None:
    _project(pytester, "YYNYY", """
        from pytest_llmjudge import assert_judged

        def test_judged():
            verdict = assert_judged("Hello there", "The reply is polite", strategy="weighted",
                                    unstable="warn")
            # P(YES) is 0.8 on a YES poll and 0.3 on a NO poll.
            assert abs(verdict.score - (0.8 * 4 + 0.3) / 5) < 1e-9
            assert [v.p_yes for v in verdict.votes] == [0.8, 0.8, 0.3, 0.8, 0.8]
    """, probs=True)
    pytester.runpytest().assert_outcomes(passed=1, warnings=1)


def test_the_report_carries_votes_interval_and_outcome(pytester: pytest.Pytester) -> None:
    _project(pytester, "YYNYY", ASSERT.format(extra=""))
    pytester.runpytest("--llmjudge-report=out.json").assert_outcomes(failed=1)
    report = json.loads((pytester.path / "out.json").read_text())
    verdict = report["tests"][0]["verdicts"][0]
    assert verdict["outcome"] == "UNSTABLE" and verdict["polls"] == 5
    assert [v["answer"] for v in verdict["votes"]] == ["YES", "YES", "NO", "YES", "YES"]
    assert verdict["interval"][0] < 0.5 < verdict["interval"][1]
    assert verdict["strategy"] == "chainpoll" and verdict["confidence"] == 0.9


@pytest.mark.parametrize(
    ("scale", "message"),
    [("10", "scale=10 is not a rating scale; use a whole number of points from 3 to 9"),
     ("2", "scale=2 is not a rating scale"),
     ("'5'", "scale='5' is not a rating scale"),
     ("True", "scale=True is not a rating scale")],
)
def test_a_bad_rating_scale_is_an_error(pytester: pytest.Pytester, scale: str,
                                        message: str) -> None:
    _project(pytester, "YYY", f"""
        from pytest_llmjudge import assert_judged

        def test_judged():
            assert_judged("Hello there", "The reply is polite", scale={scale})
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"E *JudgeConfigError: {message}*", "stub calls: 0"])
