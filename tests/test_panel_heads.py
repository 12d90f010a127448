"""A panel's learned weights (``llmjudge_panel_aggregate=learned``): the fit, the file,
the errors, and a panel head fitted, saved and applied with the real 135M model."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from conftest import ASYNCIO_INI
from stub_backend import stub_conftest
from stubs import stub_project
from test_heads import kettle_project

from pytest_llmjudge.calibration import head_fit, heads

GROUNDED_TESTS = """
    from pytest_llmjudge import assert_grounded

    def test_answer():
        assert_grounded("a good answer", context="Kettles have a two-year warranty.")
"""
PANEL = "--llmjudge-panel=@strict,@lenient"
# One answer-only pass per member (the default strategy would poll with reasoning).
LOGPROB = "--llmjudge-strategy=logprob"


def _labels(n: int) -> str:
    rows = [{"kind": "grounded", "output": f"a {word} answer {i}", "criteria": "grounded",
             "context": "Kettles have a two-year warranty.", "label": label}
            for word, label in (("good", 1), ("poor", 0)) for i in range(n)]
    return "\n".join(json.dumps(r) for r in rows)


def _observed(columns: np.ndarray, y: np.ndarray) -> head_fit.ObservedPanel:
    return head_fit.ObservedPanel("grounded", "panel: a + b", "p | q",
                                  [list(row) for row in columns], [int(v) for v in y])


def _members(seed: int = 0, n: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """Member 1 knows the label, member 2 is noise around 0.5."""
    rng = np.random.default_rng(seed)
    y = np.array([i % 2 for i in range(n)], dtype=float)
    knows = 1 / (1 + np.exp(-(2.0 * (2 * y - 1) + rng.normal(size=n))))
    noise = 1 / (1 + np.exp(-rng.normal(scale=3.0, size=n)))
    return np.column_stack([knows, noise]), y


def test_a_panel_head_weighs_the_member_that_knows_above_the_noisy_one() -> None:
    columns, y = _members()
    report = head_fit.fit_panel(_observed(columns, y), "labels.jsonl", seed=0)
    assert report.head is not None and not report.why_not
    assert report.head.features == heads.PANEL_FEATURES and report.head.size == 0
    knows, noise = report.head.weights
    assert knows > 3 * abs(noise)
    # Beats the mean, which the noisy member drags down.
    assert report.head_auroc is not None and report.p_yes_auroc is not None
    assert report.head_auroc.value > report.p_yes_auroc.value
    assert "panel weights" in "\n".join(head_fit.report_lines([report]))


def test_a_member_that_points_the_wrong_way_gets_no_weight() -> None:
    columns, y = _members(seed=1)
    columns[:, 1] = 1 - columns[:, 0]  # the second member says the opposite
    report = head_fit.fit_panel(_observed(columns, y), "labels.jsonl", seed=0)
    assert report.head is not None and report.head.weights[1] == 0.0
    assert report.head.weights[0] > 0


def test_a_panel_head_that_does_not_beat_the_mean_is_not_written_and_too_few_labels_say_so(
) -> None:
    columns, y = _members()
    same = np.column_stack([columns[:, 0], columns[:, 0]])
    report = head_fit.fit_panel(_observed(same, y), "labels.jsonl", seed=0)
    assert "does not beat the members' mean" in report.why_not
    few = head_fit.fit_panel(_observed(columns[:12], y[:12]), "labels.jsonl", seed=0)
    assert few.head is None and "needs at least 10 grounded examples labelled 1" in few.why_not


def test_a_panel_head_scores_from_its_members_and_refuses_another_panel_size() -> None:
    raw = {"judge": "panel: a + b", "prompt": "p | q", "kind": "grounded",
           "features": heads.PANEL_FEATURES, "size": 0, "weights": [1.5, 0.5], "bias": -0.25,
           "fitted_on": "l.jsonl", "n": 40, "penalty": 1.0, "cv_auroc": 0.8,
           "cv_auroc_p_yes": 0.7}
    head = heads.head_from_json(raw, "cal.json: head 1")
    expected = heads.sigmoid(-0.25 + 1.5 * heads.logit(0.8) + 0.5 * heads.logit(0.3))
    assert head.score_members([0.8, 0.3]) == pytest.approx(expected)
    with pytest.raises(heads.HeadError, match="weighs 2 members and this verdict has 3"):
        head.score_members([0.8, 0.3, 0.5])
    with pytest.raises(heads.HeadError, match="one weight per member"):
        heads.head_from_json({**raw, "weights": [1.0]}, "cal.json: head 1")


def test_learned_weights_are_fitted_written_and_applied_through_a_pytest_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = stub_project(pytester, monkeypatch, test_app=GROUNDED_TESTS)
    learned = "--llmjudge-panel-aggregate=learned"
    # No head yet: ERROR, saying how to fit one.
    none = project.runpytest(PANEL, learned)
    none.assert_outcomes(errors=1)
    none.stdout.fnmatch_lines(["*JudgeConfigError: llmjudge_panel_aggregate=learned: no "
                               "grounded panel head in *llmjudge-calibration.json for panel: "
                               "stub:v1 + stub:v1 with prompts *role.strict | *role.lenient; "
                               "fit one: python -m pytest_llmjudge calibrate LABELS "
                               "--llmjudge-fit-head*"])
    off = project.runpytest(PANEL, learned, "--llmjudge-heads=off")
    off.assert_outcomes(errors=1)
    off.stdout.fnmatch_lines(["*reads a panel head from the calibration file, and "
                              "llmjudge_heads=off; fit one*"])

    (project.path / "labels.jsonl").write_text(_labels(10))
    args = ("--llmjudge-calibrate=labels.jsonl", "--llmjudge-fit-head",
            "--llmjudge-update-calibration", "-k", "calibration", PANEL)
    # The stub's members agree exactly: weights add nothing over the mean, so none is
    # written unless forced.
    refused = project.runpytest(*args)
    refused.assert_outcomes(passed=1)
    refused.stdout.fnmatch_lines(["  grounded panel: 20 examples",
                                  "*does not beat the members' mean*",
                                  "a panel's fitted thresholds are not written*",
                                  "wrote 0 fitted threshold(s) and 0 head(s) to *"])
    forced = project.runpytest(*args, "--llmjudge-fit-head-force")
    forced.assert_outcomes(passed=1)
    forced.stdout.fnmatch_lines(["    panel weights * on the members' logits (in the "
                                 "panel's order), bias *"])
    document = json.loads((project.path / "llmjudge-calibration.json").read_text())
    (raw,) = document["heads"]
    assert raw["judge"] == "panel: stub:v1 + stub:v1"
    assert raw["prompt"].count("+role.") == 2 and len(raw["weights"]) == 2

    used = project.runpytest(PANEL, learned, "--llmjudge-report=r.json")
    used.assert_outcomes(passed=1)
    (verdict,) = [v for t in json.loads((project.path / "r.json").read_text())["tests"]
                  for v in t["verdicts"]]
    head = heads.head_from_json(raw, "x: head 1")
    assert verdict["score"] == pytest.approx(
        head.score_members([p["score"] for p in verdict["parts"]]))
    assert any(n.startswith("panel (learned weights (") for n in verdict["notes"])

    # Another panel (other roles) finds no head for itself: ERROR naming the one there is.
    other = project.runpytest("--llmjudge-panel=@strict,@expert", learned)
    other.assert_outcomes(errors=1)
    other.stdout.fnmatch_lines(["*no grounded panel head in *llmjudge-calibration.json for "
                                "panel: stub:v1 + stub:v1 with prompts *role.expert (*has "
                                "one for panel: stub:v1 + stub:v1 with prompts *role.lenient)*"])
    # The mean is unchanged by the file, and a single judge is not warned about it.
    mean = project.runpytest(PANEL)
    mean.assert_outcomes(passed=1)
    single = project.runpytest("--llmjudge-strategy=logprob")
    single.assert_outcomes(passed=1)
    assert "head fitted for judge panel" not in single.stdout.str()


def test_requests_no_head_can_score_are_combined_by_the_mean_and_say_so(
    pytester: pytest.Pytester,
) -> None:
    # A comparison's calls and a rating have no panel head, ever: the mean decides them,
    # and each says why, rather than an ERROR no fit could clear.
    pytester.makeini(f"[pytest]\n{ASYNCIO_INI}")
    pytester.makeconftest(stub_conftest("pairwise"))
    pytester.makepyfile(test_gate="""
        from pytest_llmjudge import assert_better

        def test_gate():
            verdict = assert_better("new ++", "old", criteria="Helpful")
            members = verdict.parts[0]
            assert members.part_kind == "member"
            assert "the members' mean decides it" in members.notes[-1]
            assert members.score == sum(p.score for p in members.parts) / 2
    """)
    result = pytester.runpytest(PANEL, "--llmjudge-panel-aggregate=learned")
    result.assert_outcomes(passed=1)


def test_a_panel_head_is_fitted_and_applied_with_a_real_model(
    judged: pytest.Pytester,
) -> None:
    kettle_project(judged)
    fit = judged.run(sys.executable, "-m", "pytest_llmjudge", "calibrate", "labels.jsonl",
                     PANEL, LOGPROB, "--llmjudge-fit-head", "--llmjudge-fit-head-force",
                     "--llmjudge-update-calibration")
    assert fit.ret == 0, fit.stdout.str()[-3000:]
    fit.stdout.fnmatch_lines(["  grounded panel: 20 examples",
                              "    AUROC     head * members' mean *"])
    (raw,) = json.loads((judged.path / "llmjudge-calibration.json").read_text())["heads"]
    assert raw["judge"].startswith("panel: llamacpp:smollm2-135m@sha256:")
    assert all(w >= 0 for w in raw["weights"]) and len(raw["weights"]) == 2

    used = judged.runpytest(PANEL, LOGPROB, "--llmjudge-panel-aggregate=learned",
                            "--llmjudge-report=run.json")
    used.assert_outcomes(passed=1)
    (verdict,) = [v for t in json.loads((judged.path / "run.json").read_text())["tests"]
                  for v in t["verdicts"]]
    members = [p["score"] for p in verdict["parts"]]
    assert verdict["score"] == pytest.approx(
        heads.head_from_json(raw, "x: head 1").score_members(members), abs=1e-9)
