"""Pairwise heads: a comparison's signals combined by fitted weights, with a fitted tie
band. The arithmetic, the file, the plumbing around a scripted backend (it proves
plumbing only), and a head fitted, saved and applied with the real 135M model."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ASYNCIO_INI
from stub_backend import stub_conftest

from pytest_llmjudge.calibration import heads, pairwise_fit, thresholds_file
from pytest_llmjudge.judging.pairwise import Signals
from pytest_llmjudge.judging.prompts import load

PROMPT = f"{load('pairwise.v1', 'direct pair').version}+{load('checklist.v1', 'direct').version}"


def _head(**changes: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "judge": "stub:pair", "prompt": PROMPT, "kind": "pairwise",
        "features": heads.PAIRWISE_FEATURES, "size": 0, "weights": [0.5, 1.0], "bias": 0.0,
        "fitted_on": "pairs.jsonl", "n": 40, "penalty": 1.0, "cv_auroc": 0.8,
        "cv_auroc_p_yes": 0.7, "margin": 0.1}
    raw.update(changes)
    return raw


# -- arithmetic -----------------------------------------------------------------------------
def test_swapping_the_outputs_mirrors_the_score() -> None:
    head = heads.head_from_json(_head(), "cal.json: head 1")
    signals = Signals(0.7, 0.6, 0.8, 0.3)
    swapped = Signals(1 - 0.6, 1 - 0.7, 0.3, 0.8)  # the reference as the candidate
    assert swapped.features() == pytest.approx(tuple(-f for f in signals.features()))
    assert head.score_pair(swapped.features()) == pytest.approx(
        1 - head.score_pair(signals.features()))
    # With no signal at all, no side is preferred: there is no bias to prefer one.
    assert head.score_pair(Signals(0.5, 0.5, 0.4, 0.4).features()) == 0.5


def test_the_fit_weighs_the_signal_that_carries_the_label() -> None:
    rng = np.random.default_rng(0)
    y = np.array([i % 2 for i in range(80)], dtype=float)
    # Column 0 is noise; column 1 carries the label.
    x = np.column_stack([rng.normal(size=80), (2 * y - 1) * 2 + rng.normal(size=80)])
    w = pairwise_fit.fit_weights(x, y)
    assert w[1] > 1.0 and abs(w[0]) < 0.5


def test_a_signal_that_points_the_wrong_way_is_dropped_not_turned_round() -> None:
    rng = np.random.default_rng(1)
    y = np.array([i % 2 for i in range(80)], dtype=float)
    # Column 0 prefers the worse output (as the 1.5B's pairwise prompt does on LLMBar's
    # adversarial pairs); column 1 carries the label weakly.
    x = np.column_stack([-(2 * y - 1) + rng.normal(size=80),
                         (2 * y - 1) * 0.5 + rng.normal(size=80)])
    free = pairwise_fit.fit_weights(x, y, nonnegative=False)
    kept = pairwise_fit.fit_weights(x, y)
    assert free[0] < 0
    assert kept[0] == 0.0 and kept[1] > 0
    # Both pointing the wrong way: no weight at all, so every pair scores 0.5.
    assert list(pairwise_fit.fit_weights(-x[:, 1:] * np.ones((1, 2)), y)) == [0.0, 0.0]


def test_the_tie_band_covers_the_pairs_the_judge_cannot_tell() -> None:
    # 60 confident pairs, all right; 40 near 0.5, half right: at margin 0 the decided
    # accuracy is 0.8 (above 0.7 already), so no band is needed ...
    confident = [0.9] * 30 + [0.1] * 30
    labels = [1] * 30 + [0] * 30
    unsure = [0.52, 0.48] * 20
    unsure_labels = [1, 1, 0, 0] * 10  # each score right half the time
    margin, reached = pairwise_fit.choose_margin(confident + unsure, labels + unsure_labels)
    assert (margin, reached) == (0.0, True)
    # ... but with 100 unsure pairs it is 0.6875 at margin 0, and only tying the unsure
    # ones (margin 0.02) would reach it, which ties more than MAX_TIES: the widest band
    # allowed is kept, and the target is reported as missed.
    many = [0.52, 0.48] * 50
    many_labels = [1, 1, 0, 0] * 25
    margin, reached = pairwise_fit.choose_margin(confident + many, labels + many_labels)
    assert not reached and pairwise_fit.decided(confident + many, labels + many_labels,
                                                margin).ties <= pairwise_fit.MAX_TIES
    # 30 confident pairs right, 20 just off 0.5 all wrong, 10 a little further all right:
    # 0.667 decided at margin 0; the band is the narrowest that ties the wrong ones.
    confident, labels = [0.9] * 15 + [0.1] * 15, [1] * 15 + [0] * 15
    scores = confident + [0.53, 0.47] * 10 + [0.56, 0.44] * 5
    truth = labels + [0, 1] * 10 + [1, 0] * 5
    margin, reached = pairwise_fit.choose_margin(scores, truth)
    figures = pairwise_fit.decided(scores, truth, margin)
    assert reached and figures.accuracy >= pairwise_fit.DECIDED_ACCURACY
    narrower = pairwise_fit.decided(scores, truth, margin - 0.005)
    assert narrower.accuracy < pairwise_fit.DECIDED_ACCURACY


def test_tie_as_half_counts_a_tie_half_right() -> None:
    figures = pairwise_fit.decided([0.9, 0.1, 0.5, 0.2], [1, 0, 1, 1], 0.05)
    assert figures.ties == 0.25 and figures.accuracy == pytest.approx(2 / 3)
    assert figures.half == pytest.approx((2 + 0.5) / 4)
    assert math.isnan(pairwise_fit.decided([0.5], [1], 0.1).accuracy)


# -- the file -------------------------------------------------------------------------------
def test_a_pairwise_head_round_trips_through_the_calibration_file(tmp_path: Path) -> None:
    head = heads.head_from_json(_head(), "cal.json: head 1")
    path = thresholds_file.write(tmp_path / "cal.json", [], [head])
    (read,) = thresholds_file.read_all(path)[1]
    assert (read.weights, read.margin, read.kind) == ((0.5, 1.0), 0.1, "pairwise")
    assert json.loads(path.read_text())["heads"][0]["margin"] == 0.1


@pytest.mark.parametrize(("changes", "message"), [
    ({"margin": 0.5}, "has margin=0.5; a pairwise head needs a number in [0, 0.5)"),
    ({"margin": "0.1"}, "has margin='0.1'; a pairwise head needs a number in [0, 0.5)"),
    ({"weights": [1.0, 2.0, 3.0]}, "has 3 weights, size 0 and bias 0.0; a pairwise head has 2"),
    ({"bias": 0.3}, "has 2 weights, size 0 and bias 0.3; a pairwise head has 2"),
    ({"features": "hidden_state+logit"}, "reads features 'hidden_state+logit'; this version "
     "reads 'pairwise_signals.v1' for a pairwise head"),
])
def test_a_damaged_pairwise_head_is_refused_with_how_to_refit(
    changes: dict[str, object], message: str,
) -> None:
    with pytest.raises(heads.HeadError) as err:
        heads.head_from_json(_head(**changes), "cal.json: head 1")
    assert str(err.value).startswith(f"cal.json: head 1 {message}")
    assert "--llmjudge-fit-head" in str(err.value)


def test_a_missing_margin_is_refused() -> None:
    raw = _head()
    del raw["margin"]
    with pytest.raises(heads.HeadError, match=r"has missing fields \['margin'\]"):
        heads.head_from_json(raw, "cal.json: head 1")


# -- plumbing with the stub: "+" counts decide (see stub_backend.py) -------------------------
def _project(pytester: pytest.Pytester, body: str, head: dict[str, object] | None,
             **script: object) -> None:
    pytester.makeini(f"[pytest]\n{ASYNCIO_INI}")
    pytester.makeconftest(stub_conftest("pairwise", **script))
    pytester.makepyfile(test_gate=body)
    if head is not None:
        (pytester.path / "llmjudge-calibration.json").write_text(json.dumps(
            {"format": thresholds_file.FORMAT, "version": 2, "entries": [], "heads": [head]}))


GATE = """
    from pytest_llmjudge import assert_better

    def test_gate():
        assert_better("new ++", "old", criteria="Helpful")
"""


def test_a_fitted_pairwise_head_scores_the_comparison_and_its_band_ties(
    pytester: pytest.Pytester,
) -> None:
    # Orders 0.7 and 0.7, alone 0.9 against 0.5: features (2 logit 0.7, logit 0.9).
    features = Signals(0.7, 0.7, 0.9, 0.5).features()
    expected = heads.sigmoid(0.5 * features[0] + 1.0 * features[1])
    _project(pytester, GATE.replace("assert_better(", "verdict = assert_better(") + f"""
        assert abs(verdict.score - {expected!r}) < 1e-9
        assert verdict.score_source.startswith("the fitted pairwise head in ")
    """, _head())
    pytester.runpytest().assert_outcomes(passed=1)
    # The same score inside a band wider than its distance from 0.5 is a tie.
    _project(pytester, GATE, _head(margin=0.49))
    tied = pytester.runpytest()
    tied.assert_outcomes(failed=1)
    tied.stdout.fnmatch_lines([
        f"E   *judged tied with the reference; P(candidate better) {expected:.3f}*",
        "E *score * from the fitted pairwise head in *llmjudge-calibration.json (40 labels "
        "from pairs.jsonl*a tie within 0.490 of 0.5",
        "E *TIE (a tie within 0.490 of 0.5); decided by neither side*"])


def test_a_head_that_gives_the_orders_no_weight_asks_only_the_alone_calls(
    pytester: pytest.Pytester,
) -> None:
    expected = heads.sigmoid(Signals(0.5, 0.5, 0.9, 0.5).features()[1])
    _project(pytester, GATE.replace("assert_better(", "verdict = assert_better(") + f"""
        assert verdict.part_kind == "alone" and len(verdict.parts) == 2
        assert abs(verdict.score - {expected!r}) < 1e-9 and verdict.answer == "BETTER"
        assert "orders: not asked (the fitted head gives them no weight)" in verdict.notes

    def test_worse():
        assert_better("old", "new ++", criteria="Helpful")

    def test_rank(judge):
        ranking = judge.rank(["a", "b +", "c ++"], criteria="Helpful")
        assert ranking.order == (2, 1, 0)
        assert all(v.part_kind == "alone" for _, _, v in ranking.comparisons)
    """, _head(weights=[0.0, 1.0]))
    result = pytester.runpytest("--llmjudge-html=report.html")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "E   *judged worse than the reference; P(candidate better) *",
        "E *orders: not asked (the fitted head gives them no weight)",
        "E *candidate judged alone: YES, P(YES)=0.50",
        "E *reference judged alone: YES, P(YES)=0.90",
        "stub pairs: []",  # no order was asked, in any test
    ])
    assert "(P(YES) alone)" in (pytester.path / "report.html").read_text()


def test_alone_replies_without_logprobs_fall_back_to_all_four_calls_and_the_unfitted_rule(
    pytester: pytest.Pytester,
) -> None:
    # The head would ask only the alone calls; their replies carry no P(YES), so the
    # comparison asks the orders too and combines by the unfitted rule, saying so.
    _project(pytester, GATE.replace("assert_better(", "verdict = assert_better(") + """
        assert verdict.part_kind == "order" and len(verdict.parts) == 4
        assert verdict.score_source.startswith("the unfitted rule")
        assert verdict.answer == "BETTER"
    """, _head(weights=[0.0, 1.0]), alone_probs=False)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    # Strategy auto moves to chainpoll votes for the rest of the run, and says so.
    result.stdout.fnmatch_lines([
        "*LogprobsMissingWarning: llmjudge: stub:pair returned no log-probabilities, so "
        "strategy 'auto' scores by chainpoll votes for the rest of this run*"])
    pairs = next(line for line in result.outlines if line.startswith("stub pairs: "))
    assert "('new ++', 'old')" in pairs and "('old', 'new ++')" in pairs  # both orders


def test_a_pairwise_head_for_another_judge_is_ignored_with_a_warning(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, GATE, _head(judge="llamacpp:other@sha256:0"))
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "warning: *llmjudge-calibration.json has a pairwise head fitted for judge "
        "llamacpp:other@sha256:0 with prompts pairwise.v1@*; this run judges with stub:pair*"
        "so it is ignored*"])


def _pair_labels(n: int) -> str:
    """``n`` labelled pairs: the output with more "+" is the better one, but a fifth of
    the labels say the opposite (so no rule is perfect)."""
    rows = []
    for i in range(n):
        more, fewer = f"answer {i} " + "+" * (1 + i % 3), f"answer {i}"
        first_better = i % 2 == 0
        output, other = (more, fewer) if first_better else (fewer, more)
        label = int(first_better) if i % 5 else int(not first_better)
        rows.append({"kind": "pairwise", "output": output, "other_output": other,
                     "criteria": "Helpful", "instruction": "Answer the question.",
                     "label": label})
    return "\n".join(json.dumps(r) for r in rows)


def test_a_pairwise_head_is_fitted_from_labels_and_written(pytester: pytest.Pytester) -> None:
    # A head that skips the orders is in the file already: the fit asks them anyway.
    _project(pytester, GATE, _head(weights=[0.0, 1.0]))
    (pytester.path / "labels.jsonl").write_text(_pair_labels(30))
    result = pytester.runpytest("--llmjudge-calibrate=labels.jsonl", "--llmjudge-fit-head",
                                "--llmjudge-fit-head-force", "--llmjudge-update-calibration",
                                "-k", "calibration", "-rA")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*pairwise: 30 examples*", "*AUROC     head * the unfitted rule *",
        "*head at its tie margin *: accuracy where decided *, ties *",
        "*orders only (both must agree): *",
        "*weights * on the orders' logits, * on the alone scores' logits*"])
    assert "stub pairs: []" not in result.stdout.str()
    (head,) = thresholds_file.read_all(pytester.path / "llmjudge-calibration.json")[1]
    assert (head.kind, head.judge, head.prompt, head.n) == ("pairwise", "stub:pair", PROMPT, 30)
    assert 0.0 <= head.margin <= pairwise_fit.MARGINS[-1] and len(head.weights) == 2


def test_fitting_a_pairwise_head_with_too_few_labels_says_how_many(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, GATE, None)
    (pytester.path / "labels.jsonl").write_text(_pair_labels(12))
    result = pytester.runpytest("--llmjudge-calibrate=labels.jsonl", "--llmjudge-fit-head",
                                "-k", "calibration")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*needs at least 10 pairwise examples labelled 1 and 10 "
                                 "labelled 0*"])


def test_a_pairwise_head_needs_the_signals_mode(pytester: pytest.Pytester) -> None:
    _project(pytester, GATE, None)
    (pytester.path / "labels.jsonl").write_text(_pair_labels(30))
    result = pytester.runpytest("--llmjudge-calibrate=labels.jsonl", "--llmjudge-fit-head",
                                "-o", "llmjudge_pairwise=orders", "-k", "calibration")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*a pairwise head combines logits, so every comparison must "
                                 "be judged with strategy logprob and "
                                 "llmjudge_pairwise=signals*"])


# -- mechanics with the real 135M model ------------------------------------------------------
GOOD = ["Paris is the capital of France.", "Water boils at 100 degrees Celsius at sea level.",
        "There are seven days in a week.", "The Pacific is the largest ocean.",
        "A triangle has three sides.", "Tokyo is the capital of Japan.",
        "Ice is frozen water.", "The Sun is a star.", "Spiders have eight legs.",
        "A year has twelve months.", "Mount Everest is the highest mountain.",
        "The heart pumps blood."]
BAD = ["Lyon is the capital of France.", "Water boils at 40 degrees.",
       "There are ten days in a week.", "The Atlantic is the only ocean.",
       "A triangle has five sides.", "Osaka is the capital of Japan.",
       "Ice is frozen milk.", "The Sun is a planet.", "Spiders have six legs.",
       "A year has nine months.", "Mont Blanc is the highest mountain.",
       "The heart digests food."]


def test_a_pairwise_head_is_fitted_saved_and_applied_with_a_real_model(
    judged: pytest.Pytester,
) -> None:
    rows = []
    # 20 labelled pairs, 10 of each label (the fewest a head is fitted on), from 5
    # distinct comparisons: each twice with the true statement as the output and twice
    # as the other output (every repeat replays its judge calls from the cache).
    for i in range(20):
        good, bad = GOOD[i % 5], BAD[i % 5]
        first = (i // 5) % 2 == 0
        output, other = (good, bad) if first else (bad, good)
        rows.append({"kind": "pairwise", "output": output, "other_output": other,
                     "criteria": "The statement is true", "label": int(first)})
    (judged.path / "labels.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    fit = judged.run(sys.executable, "-m", "pytest_llmjudge", "calibrate", "labels.jsonl",
                     "--llmjudge-strategy=logprob", "--llmjudge-fit-head",
                     "--llmjudge-fit-head-force", "--llmjudge-update-calibration")
    assert fit.ret == 0, fit.stdout.str()
    fit.stdout.fnmatch_lines(["*pairwise: 20 examples*", "*head at its tie margin*"])
    (head,) = thresholds_file.read_all(judged.path / "llmjudge-calibration.json")[1]
    assert head.kind == "pairwise" and head.judge.startswith("llamacpp:")
    assert head.prompt == PROMPT and min(head.weights) >= 0
    judged.makepyfile("""
        import json

        from pytest_llmjudge.calibration.heads import head_from_json
        from pytest_llmjudge.judging.pairwise import Signals, banded

        def test_pair(judge):
            verdict = judge.compare("Paris is the capital of France.",
                                    "Marseille is the capital of France.",
                                    criteria="The statement is true")
            assert verdict.score_source.startswith("the fitted pairwise head in ")
            with open("llmjudge-calibration.json") as file:
                head = head_from_json(json.load(file)["heads"][0], "cal: head 1")
            scores = [p.score for p in verdict.parts]
            if verdict.part_kind == "alone":  # the head gave the orders no weight
                scores = [0.5, 0.5, *scores]
            first, second, candidate, reference = scores
            signals = Signals(first, 1 - second, candidate, reference)
            assert abs(verdict.score - head.score_pair(signals.features())) < 1e-9
            assert verdict.answer == banded(verdict.score, head.margin)
    """)
    judged.runpytest("--llmjudge-strategy=logprob").assert_outcomes(passed=1)


def test_a_panel_compares_by_the_unfitted_rule_not_a_members_head(
    pytester: pytest.Pytester,
) -> None:
    # The head matches the session judge, but a panel's scores are means of members:
    # the head's weights are not for them.
    _project(pytester, GATE.replace("assert_better(", "verdict = assert_better(") + """
        assert verdict.score_source.startswith("the unfitted rule")
        assert all(part.part_kind == "member" for part in verdict.parts)
    """, _head())
    pytester.runpytest("--llmjudge-panel=@strict,@lenient").assert_outcomes(passed=1)
