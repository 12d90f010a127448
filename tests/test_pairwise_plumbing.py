"""Pairwise comparisons, rankings and baselines around a scripted backend plugged in
through the public hook. The stub prefers the response with more "+" in it, or (in
position mode) always the first one shown. It proves plumbing only; the 1.5B model's
comparisons are measured in benchmarks/pairwise.py and tested in
tests/test_pairwise_judge.py."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from conftest import ASYNCIO_INI
from stub_backend import stub_conftest


def _project(pytester: pytest.Pytester, body: str, position: bool = False) -> None:
    pytester.makeini(f"[pytest]\n{ASYNCIO_INI}")
    pytester.makeconftest(stub_conftest("pairwise", position=position))
    pytester.makepyfile(test_gate=body)


HEADER = """
        import pytest
        from pytest_llmjudge import assert_better, assert_not_worse
"""


def test_a_better_candidate_wins_in_both_orders(pytester: pytest.Pytester) -> None:
    _project(pytester, HEADER + """
        def test_gate(judge):
            verdict = assert_better("new ++", "old", criteria="Helpful")
            assert verdict.answer == "BETTER" and verdict.score == pytest.approx(0.7)
            first, second, candidate, reference = verdict.parts
            assert (first.output, second.output) == ("new ++", "old")
            # Each output judged alone, with the checklist prompt, decided at 0.5.
            assert (candidate.output, reference.output) == ("new ++", "old")
            assert candidate.score == pytest.approx(0.9) and reference.score == 0.5
            assert candidate.prompt_version.startswith("checklist.v1@")
            assert "unfitted rule" in verdict.score_source
    """)
    result = pytester.runpytest("--llmjudge-html=report.html", "--llmjudge-report=run.json")
    result.assert_outcomes(passed=1)
    # The reports name each signal: the summary cell, and each part's role.
    html = (pytester.path / "report.html").read_text()
    assert "orders 0.70/0.70, alone 0.90 vs 0.50" in html
    assert "(P(A), candidate shown first)" in html and "(P(YES) alone)" in html
    (verdict,) = json.loads((pytester.path / "run.json").read_text())["tests"][0]["verdicts"]
    assert len(verdict["parts"]) == 4 and verdict["answer"] == "BETTER"
    assert verdict["score_source"].startswith("the unfitted rule")
    # Both orders were asked (concurrently, so in either order): candidate as A and as B.
    calls = next(line for line in result.stdout.lines if line.startswith("stub pairs"))
    assert sorted(ast.literal_eval(calls.removeprefix("stub pairs: "))) == [("new ++", "old"),
                                                                 ("old", "new ++")]
    result.stdout.fnmatch_lines(["stub alone: ['new ++', 'old']"])


def test_orders_mode_asks_both_orders_only(pytester: pytest.Pytester) -> None:
    _project(pytester, HEADER + """
        def test_gate(judge):
            verdict = assert_better("new ++", "old", criteria="Helpful")
            assert len(verdict.parts) == 2 and verdict.score_source == ""
    """)
    result = pytester.runpytest("-o", "llmjudge_pairwise=orders")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["stub calls: 2", "stub alone: []"])


def test_an_unknown_pairwise_mode_is_an_error(pytester: pytest.Pytester) -> None:
    _project(pytester, HEADER + """
        def test_gate(judge):
            assert_better("new ++", "old", criteria="Helpful")
    """)
    result = pytester.runpytest("-o", "llmjudge_pairwise=both")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*llmjudge_pairwise='both' is not a way to compare; use "
                                 "signals*or orders*"])


def test_a_marker_threshold_applies_to_assert_better_and_not_to_assert_not_worse(
    pytester: pytest.Pytester,
) -> None:
    # P(candidate better) is 0.7 here: below the marked 0.75, so assert_better fails;
    # assert_not_worse has no threshold and passes on BETTER.
    _project(pytester, HEADER + """
        pytestmark = pytest.mark.llmjudge(threshold=0.75)

        def test_better():
            assert_better("new ++", "old", criteria="Helpful")

        def test_not_worse():
            assert_not_worse("new ++", "old", criteria="Helpful")

        @pytest.mark.llmjudge(threshold=0.4)
        def test_bar_below_even():
            assert_better("new ++", "old", criteria="Helpful")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(["E   *P(candidate better) 0.700, threshold 0.75*"])
    result.stdout.fnmatch_lines(["E   *JudgeConfigError: assert_better(): threshold=0.4 "
                                 "would call a tie or a loss better*"])


def test_a_worse_candidate_fails_and_shows_both_orders(pytester: pytest.Pytester) -> None:
    _project(pytester, HEADER + """
        def test_gate():
            assert_not_worse("new", "old ++", criteria="Helpful")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E   *pairwise comparison failed: the candidate is judged worse than the reference; "
        "P(candidate better) 0.300 (no threshold: a win or a tie passes)",
        "E *score 0.300 from the unfitted rule*",
        "E *reference:", "E *old ++",
        "E *P(candidate better) 0.300: WORSE (a tie within 0.020 of 0.5); decided by the first*",
        "E *second order and the alone scores (all agree)",
        "E *orders: P(candidate better) 0.300 shown first, 0.300 shown second",
        "E *alone: P(YES) 0.500 for the candidate, 0.900 for the reference",
        "E *candidate shown first (as A): judge chose B, P(A)=0.30",
        "E *candidate shown second (as B): judge chose A, P(A)=0.70",
        "E *candidate judged alone: YES, P(YES)=0.50",
        "E *reference judged alone: YES, P(YES)=0.90",
    ])


def test_the_alone_scores_decide_when_the_orders_follow_the_position(
    pytester: pytest.Pytester,
) -> None:
    # Orders 0.8 and 0.2 (position only) cancel; alone 0.5 against 0.9 says worse.
    _project(pytester, HEADER + """
        def test_not_worse():
            assert_not_worse("new", "old ++", criteria="Helpful")
    """, position=True)
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E   *judged worse than the reference; P(candidate better) 0.400 "
        "(no threshold: a win or a tie passes)",
        "E *P(candidate better) 0.400: WORSE (a tie within 0.020 of 0.5); decided by the*",
        "E *the alone scores (against: the first order)"])


def test_a_preference_that_follows_the_position_is_a_tie(pytester: pytest.Pytester) -> None:
    _project(pytester, HEADER + """
        def test_not_worse():
            verdict = assert_not_worse("new", "old ++", criteria="Helpful")
            assert verdict.answer == "TIE" and verdict.score == pytest.approx(0.5)
            # Each order is decided at 0.5 (a polled order polls until its preference
            # settles), whatever the comparison's own threshold.
            assert verdict.threshold == 0.0
            assert [o.threshold for o in verdict.parts] == [0.5, 0.5]

        def test_better():
            assert_better("new ++", "old", criteria="Helpful")

        def test_better_or_tie():
            assert_better("new ++", "old", criteria="Helpful", allow_tie=True)
    """, position=True)
    result = pytester.runpytest("-o", "llmjudge_pairwise=orders")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "E   *the candidate is judged tied with the reference*",
        "E *P(candidate better): 0.800 shown first, 0.200 shown second; the preference "
        "followed the", "E *position, so a tie"])


def test_identical_outputs_tie_without_calling_the_judge(pytester: pytest.Pytester) -> None:
    _project(pytester, HEADER + """
        def test_not_worse():
            verdict = assert_not_worse("same text", " same text ", criteria="Helpful")
            assert verdict.answer == "TIE" and verdict.attempts == 0

        def test_better():
            assert_better("same text", "same text", criteria="Helpful")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["E *identical outputs: a tie, decided without calling the "
                                 "judge", "stub calls: 0"])


@pytest.mark.parametrize(("call", "message"), [
    ("assert_better('new', '', criteria='Helpful')",
     "assert_better(): reference must be a non-empty str, got ''"),
    ("assert_not_worse('', 'old', criteria='Helpful')", "*the output to judge is empty*"),
    ("assert_not_worse('new', None, criteria='Helpful')",
     "assert_not_worse(): reference must be a non-empty str, got None"),
    ("assert_better('new', 'old', criteria='Helpful', allow_tie=True, threshold=0.8)",
     "assert_better(): allow_tie=True passes a tie, whose score sits near 0.5, so "
     "threshold=0.8 (a clear win) cannot be the test; drop one of them"),
    ("assert_better('new', 'old', criteria='Helpful', threshold=0.5)",
     "assert_better(): threshold=0.5 would call a tie or a loss better*"),
    ("assert_better('new', 'old', criteria='Helpful', allow_tie='yes')",
     "assert_better(): allow_tie must be True or False, got 'yes'"),
    ("assert_better('new', 'old', criteria='')", "*the criterion must be a non-empty str*"),
])
def test_bad_comparisons_error_before_any_call(pytester: pytest.Pytester, call: str,
                                               message: str) -> None:
    _project(pytester, HEADER + f"""
        def test_gate():
            {call}
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"E   *{message}", "stub calls: 0"])


def test_a_clear_win_can_be_demanded(pytester: pytest.Pytester) -> None:
    _project(pytester, HEADER + """
        def test_clear():
            assert_better("new +++", "old", criteria="Helpful", threshold=0.75)

        def test_not_clear_enough():
            assert_better("new +", "old", criteria="Helpful", threshold=0.75)
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["E   *judged better than the reference; P(candidate better) "
                                 "0.600, threshold 0.75"])


def test_rank_orders_outputs_by_debiased_comparisons(pytester: pytest.Pytester) -> None:
    # (--llmjudge-report: every pair's verdict is recorded.)
    _project(pytester, """
        import pytest

        def test_rank(judge):
            ranking = judge.rank(["one +", "three +++", "none", "three +++"],
                                 criteria="Helpful")
            assert ranking.order[:2] in ((1, 3), (3, 1)) and ranking.order[2:] == (0, 2)
            assert ranking.scores[1] == ranking.scores[3] > ranking.scores[0]
            assert len(ranking.comparisons) == 6
    """)
    result = pytester.runpytest("--llmjudge-report=report.json")
    result.assert_outcomes(passed=1)
    report = json.loads((pytester.path / "report.json").read_text())
    assert len(report["tests"][0]["verdicts"]) == 6
    # 6 pairs, one of them identical (decided without the judge): 5 pairs x 2 orders.
    # Outputs 1 and 3 are the same text, so of those 10 judgments 6 are distinct; a
    # repeat replays from the cache unless its twin is still in flight (pairs run
    # concurrently), so every distinct one is made, and each is made or replayed.
    # Each of the 4 outputs is judged alone once (3 distinct texts), not once a pair.
    calls = next(line for line in result.stdout.lines if line.startswith("stub pairs"))
    assert len(set(ast.literal_eval(calls.removeprefix("stub pairs: ")))) == 6
    alone = next(line for line in result.stdout.lines if line.startswith("stub alone"))
    assert set(ast.literal_eval(alone.removeprefix("stub alone: "))) == {
        "one +", "three +++", "none"}
    summary = next(line for line in result.stdout.lines if line.startswith("judge calls:"))
    made, replayed = map(int, re.findall(r"(\d+) (?:made|replayed)", summary))
    assert made + replayed == 14 and made >= 9


@pytest.mark.parametrize(("outputs", "message"), [
    ("['only one']", "rank() needs at least 2 outputs to compare, got 1"),
    ("'one string'", "judge.rank(): outputs must be a list of str, got str"),
    ("['fine', '']", "*the output to judge is empty*"),
])
def test_bad_rankings_are_errors(pytester: pytest.Pytester, outputs: str,
                                 message: str) -> None:
    _project(pytester, f"""
        def test_rank(judge):
            judge.rank({outputs}, criteria="Helpful")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"E   *{message}"])


GATED = HEADER + """
        def test_gate(baseline):
            output = {output!r}
            assert_not_worse(output, baseline("refund-question", output), criteria="Helpful")
"""


def _baseline_file(pytester: pytest.Pytester) -> Path:
    return pytester.path / "__llmjudge__" / "baselines" / "test_gate" / "test_gate.json"


def test_a_missing_baseline_is_an_error_that_says_how_to_record_it(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, GATED.format(output="answer +"))
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "E   *no baseline 'refund-question' recorded for test_gate.py::test_gate (*test_gate."
        "json is missing). Record it with pytest --llmjudge-update-baselines*"])


def test_baselines_are_recorded_then_gate_later_runs(pytester: pytest.Pytester) -> None:
    _project(pytester, GATED.format(output="answer ++"))
    recorded = pytester.runpytest("--llmjudge-update-baselines")
    recorded.assert_outcomes(passed=1)
    recorded.stdout.fnmatch_lines(["stub calls: 0"])  # identical to itself: no judge call
    stored = json.loads(_baseline_file(pytester).read_text())
    assert stored == {"format": "pytest-llmjudge baselines", "version": 1,
                      "test": "test_gate.py::test_gate",
                      "baselines": {"refund-question": "answer ++"}}
    _project(pytester, GATED.format(output="answer +++"))  # a better prompt
    pytester.runpytest().assert_outcomes(passed=1)
    _project(pytester, GATED.format(output="answer"))  # a worse one
    worse = pytester.runpytest()
    worse.assert_outcomes(failed=1)
    worse.stdout.fnmatch_lines(["E   *judged worse than the reference*",
                                "E *reference:", "E *answer ++"])


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "is not valid: not JSON*"),
    ('{"format": "other", "version": 1, "baselines": {}}', "*\"format\" is not*"),
    ('{"format": "pytest-llmjudge baselines", "version": 2, "baselines": {}}',
     "*version 2, this plugin reads version 1*"),
    ('{"format": "pytest-llmjudge baselines", "version": 1, "baselines": ["a"]}',
     "*\"baselines\" is not an object of name: output*"),
    ('{"format": "pytest-llmjudge baselines", "version": 1, '
     '"baselines": {"refund-question": 3}}',
     "*baseline 'refund-question' is not a non-empty string*"),
])
def test_an_invalid_baseline_file_is_an_error_naming_it(
    pytester: pytest.Pytester, content: str, message: str,
) -> None:
    _project(pytester, GATED.format(output="answer +"))
    path = _baseline_file(pytester)
    path.parent.mkdir(parents=True)
    path.write_text(content)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"E   *baseline file *test_gate.json {message}"
                                 if not message.startswith("*") else
                                 f"E   *baseline file *test_gate.json is not valid: {message}"])


def test_updating_needs_the_output(pytester: pytest.Pytester) -> None:
    _project(pytester, """
        def test_gate(baseline):
            baseline("refund-question")
    """)
    result = pytester.runpytest("--llmjudge-update-baselines")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["E   *baseline('refund-question'): "
                                 "--llmjudge-update-baselines records the output*"])
