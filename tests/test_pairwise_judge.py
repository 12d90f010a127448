"""Pairwise comparisons on real models: the 135M model through a pytest run and
through llama-cpp-python's server (mechanics), the 1.5B model on hand-written pairs
whose better side is clear (quality)."""

from __future__ import annotations

import pytest

from pytest_llmjudge.calibration.thresholds_file import Calibration, packaged_heads
from pytest_llmjudge.judging.judge import Judge
from pytest_llmjudge.judging.pairwise import OUTCOMES, compare
from pytest_llmjudge.judging.requests import make_request


def test_both_orders_are_judged_on_a_real_model(judged: pytest.Pytester) -> None:
    judged.makepyfile("""
        def test_pair(judge):
            verdict = judge.compare("Our store opens at 9am.", "Dunno.",
                                    criteria="Answers when the store opens")
            first, second, candidate, reference = verdict.parts
            assert first.output == "Our store opens at 9am." and second.output == "Dunno."
            for order in (first, second):
                assert order.prompt_version.startswith("pairwise.v1@")
                assert order.prompt_version.endswith("#direct pair")
                assert order.answer in ("A", "B") and 0 <= order.votes[0].p_yes <= 1
            # Each output judged alone (checklist prompt, YES/NO), then combined by the
            # unfitted rule: no pairwise head ships for the 135M model.
            assert (candidate.output, reference.output) == (first.output, second.output)
            for alone in (candidate, reference):
                assert alone.prompt_version.startswith("checklist.v1@")
                assert alone.answer in ("YES", "NO") and 0 <= alone.votes[0].p_yes <= 1
            expected = ((first.score + 1 - second.score) / 2
                        + (1 + candidate.score - reference.score) / 2) / 2
            assert abs(verdict.score - expected) < 1e-9
            assert verdict.score_source.startswith("the unfitted rule")
            assert verdict.answer in ("BETTER", "WORSE", "TIE")
    """)
    judged.runpytest().assert_outcomes(passed=1)


def test_polled_pairwise_votes_through_a_real_server(remote: pytest.Pytester,
                                                     judge_server: object) -> None:
    remote.makepyfile("""
        def test_pair(judge):
            verdict = judge.compare("Our store opens at 9am.", "Dunno.",
                                    criteria="Answers when the store opens",
                                    strategy="chainpoll", polls=3)
            for order in verdict.parts[:2]:
                assert order.strategy == "chainpoll" and order.polls == 3
                assert {v.answer for v in order.votes} <= {"A", "B"}
                assert order.prompt_version.endswith("#cot pair")
            for alone in verdict.parts[2:]:
                assert alone.strategy == "chainpoll" and alone.polls == 3
                assert {v.answer for v in alone.votes} <= {"YES", "NO"}
                assert alone.prompt_version.endswith("#cot")
    """)
    url = judge_server.url  # type: ignore[attr-defined]
    remote.runpytest(f"--llmjudge-api-base={url}").assert_outcomes(passed=1)


CLEAR = [
    ("What is the capital of France?", "The capital of France is Paris.",
     "The capital of France is Lyon."),
    ("Translate 'thank you' into Spanish.", "Gracias.", "Merci."),
    ("List three primary colours.", "Red, blue and yellow.", "Green."),
]


@pytest.mark.parametrize(("instruction", "good", "bad"), CLEAR,
                         ids=["capital", "translate", "colours"])
def test_the_clearly_better_output_is_never_judged_worse(
    quality_judge: Judge, instruction: str, good: str, bad: str,
) -> None:
    # As a run compares by default: the pairwise head shipped for this judge scores it.
    shipped = Judge(quality_judge.backend, quality_judge.settings,
                    calibration=Calibration("", (), tuple(packaged_heads())))
    for candidate, reference, wrong in ((good, bad, "WORSE"), (bad, good, "BETTER")):
        request = make_request(candidate, "The response follows the instruction correctly",
                               None, 0.5, task="pairwise",
                               inputs=[("instruction", instruction)])
        verdict = compare(shipped, request, reference, OUTCOMES)
        assert verdict.score_source.startswith("the fitted pairwise head in the packaged")
        assert verdict.answer != wrong, [(o.answer, o.score, o.reasoning)
                                         for o in verdict.parts]


def test_rank_runs_a_round_robin_on_a_real_model(judged: pytest.Pytester) -> None:
    judged.makepyfile("""
        def test_rank(judge):
            outputs = ["It opens at 9am.", "No idea.", "Opening time: 9am, Monday to Friday."]
            ranking = judge.rank(outputs, criteria="Answers when the store opens")
            assert sorted(ranking.order) == [0, 1, 2] and len(ranking.comparisons) == 3
            for i, j, verdict in ranking.comparisons:
                # Both orders were asked of the model for every pair.
                assert [o.output for o in verdict.parts[:2]] == [outputs[i], outputs[j]]
                assert all(o.answer in ("A", "B") for o in verdict.parts[:2])
                # ... and each output of the pair judged alone.
                assert [o.output for o in verdict.parts[2:]] == [outputs[i], outputs[j]]
            # Each pair hands out one unit of P(better) between its two outputs, so the
            # mean scores of n outputs add up to n / 2.
            assert abs(sum(ranking.scores) - 1.5) < 1e-9
            assert ranking.scores[ranking.order[0]] == max(ranking.scores)
    """)
    judged.runpytest().assert_outcomes(passed=1)
