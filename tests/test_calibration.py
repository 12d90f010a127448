"""Calibration: the metrics against hand-computed values, the labels file's bad inputs,
fitted thresholds written and applied, the quality gate, and a real calibration run
of the 135M model (mechanics: the 135M judge is not a good judge, so only the
plumbing of its figures is checked here; benchmarks/calibration.py measures the
packaged judges on the shared dev splits)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
from stubs import stub_project

from pytest_llmjudge.calibration import labels, metrics
from pytest_llmjudge.calibration.labels import Example, LabelsFileError
from pytest_llmjudge.calibration.run import measure, report_lines
from pytest_llmjudge.judging.verdict import Verdict

# --- metrics ----------------------------------------------------------------------------


def test_auroc_counts_ties_as_half() -> None:
    # Positives 0.9, 0.5; negatives 0.5, 0.1: pairs (0.9>0.5), (0.9>0.1), (0.5=0.5), (0.5>0.1).
    assert metrics.auroc([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]) == pytest.approx(3.5 / 4)
    with pytest.raises(metrics.UndefinedMetric, match="AUROC is undefined: every label is 1"):
        metrics.auroc([0.2, 0.8], [1, 1])


def test_confusion_rates_and_kappa() -> None:
    matrix = metrics.confusion([0.9, 0.8, 0.3, 0.6, 0.2, 0.1], [1, 1, 1, 0, 0, 0], 0.5)
    assert (matrix.tp, matrix.fn, matrix.fp, matrix.tn) == (2, 1, 1, 2)
    assert matrix.accuracy == pytest.approx(4 / 6)
    assert matrix.tpr == matrix.tnr == pytest.approx(2 / 3)
    # Observed 4/6; chance (3*3 + 3*3) / 36 = 0.5; kappa (2/3 - 1/2) / (1/2) = 1/3.
    assert matrix.kappa == pytest.approx(1 / 3)


def test_ece_is_the_weighted_gap_per_bin() -> None:
    # Bin 0.9: mean score 0.95, 1 of 2 positive (gap 0.45); bin 0.1: 0.1, 0 of 2 (0.1).
    assert metrics.ece([0.9, 1.0, 0.1, 0.1], [1, 0, 0, 0]) == pytest.approx(
        0.5 * 0.45 + 0.5 * 0.1)


def test_fitted_thresholds_maximise_balanced_accuracy_or_meet_a_target() -> None:
    scores = [0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.3]
    labels_ = [1, 1, 1, 0, 0, 1, 0]
    best = metrics.fit_threshold(scores, labels_)
    assert best == pytest.approx(0.825)  # TPR 3/4, TNR 3/3: balanced accuracy 0.875
    catch_all = metrics.fit_threshold(scores, labels_, target_tpr=1.0)
    assert catch_all == pytest.approx(0.45) and metrics.confusion(
        scores, labels_, catch_all).tpr == 1.0
    with pytest.raises(ValueError, match="not both"):
        metrics.fit_threshold(scores, labels_, target_tpr=0.9, target_tnr=0.9)


def test_bootstrap_intervals_hold_the_value_and_are_reproducible() -> None:
    scores = [i / 20 for i in range(20)]
    labels_ = [int(i >= 8) for i in range(20)]
    first = metrics.bootstrap(metrics.auroc, scores, labels_, seed=3)
    assert first == metrics.bootstrap(metrics.auroc, scores, labels_, seed=3)
    assert first.value == 1.0 and first.low <= first.value <= first.high


def test_rescalings_are_monotone_and_reduce_calibration_error() -> None:
    scores = [0.95, 0.9, 0.92, 0.88, 0.91, 0.4, 0.93, 0.89]  # a judge that says YES to all
    labels_ = [1, 0, 1, 0, 1, 0, 0, 1]
    platt = metrics.fit_platt(scores, labels_)
    assert platt(0.3) < platt(0.9)
    iso = metrics.fit_isotonic(scores, labels_)
    assert list(iso.values) == sorted(iso.values)
    before = metrics.ece(scores, labels_)
    assert metrics.ece([iso(s) for s in scores], labels_) < before
    assert metrics.ece([platt(s) for s in scores], labels_) < before


# --- labels file --------------------------------------------------------------------------


@pytest.mark.parametrize(("line", "message"), [
    ('{"kind": "judged", "output": "Hi", "label": 1}',
     "labels.jsonl:2: missing field(s) criteria for kind 'judged'"),
    ('{"kind": "grounded", "output": "Hi", "criteria": "c", "label": 1}',
     "labels.jsonl:2: missing field(s) context for kind 'grounded'"),
    ('{"kind": "judged", "output": "Hi", "criteria": "c", "label": "yes"}',
     "labels.jsonl:2: label 'yes' is not 1 (meets the criteria) or 0"),
    ('{"kind": "judged", "output": "Hi", "criteria": "c", "label": 4}',
     'labels.jsonl:2: label 4 is not 1 (meets the criteria) or 0 (does not); for a Likert '
     'rating add "scale"'),
    ('{"kind": "judged", "output": "Hi", "criteria": "c", "label": 7, "scale": 5}',
     "labels.jsonl:2: label 7 is not a rating from 1 to 5"),
    ('{"kind": "vibes", "output": "Hi", "criteria": "c", "label": 1}',
     "labels.jsonl:2: kind 'vibes' is not one of judged, grounded"),
    ("not json", "labels.jsonl:2: not a JSON object"),
    ('{"kind": "trajectory", "criteria": "c", "label": 1}',
     "labels.jsonl:2: a trajectory line needs conversation (a list of chat messages) or "
     "tool_calls"),
    ('{"kind": "grounded", "conversation": [{"role": "user", "content": "hi"}], '
     '"criteria": "c", "context": "x", "label": 1}',
     "labels.jsonl:2: conversation is for kinds judged, checklist, trajectory, not 'grounded'"),
    ('{"kind": "judged", "output": "Hi", "conversation": [{"role": "user", "content": "hi"}], '
     '"criteria": "c", "label": 1}',
     "labels.jsonl:2: give one of output, conversation and tool_calls, not output, "
     "conversation"),
    ('{"kind": "judged", "tool_calls": [{"name": "f"}], "criteria": "c", "label": 1}',
     "labels.jsonl:2: tool_calls is a trajectory's"),
    ('{"kind": "judged", "conversation": [{"role": "robot", "content": "hi"}], '
     '"criteria": "c", "label": 1}',
     "labels.jsonl:2: conversation: message 0: role 'robot' is not one of"),
    ('{"kind": "trajectory", "tool_calls": [{"name": "f", "arguments": "{bad"}], '
     '"criteria": "c", "label": 1}',
     "labels.jsonl:2: tool_calls: actual[0] (f): the arguments are not valid JSON"),
])
def test_a_bad_labels_line_is_named(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text('{"kind": "judged", "output": "Hi", "criteria": "c", "label": 1}\n'
                    + line + "\n")
    with pytest.raises(LabelsFileError) as raised:
        labels.load(path)
    assert message in str(raised.value)


def _verdict(score: float, judge: str = "stub:v1") -> Verdict:
    return Verdict(passed=score >= 0.5, score=score, threshold=0.5, answer="YES",
                   reasoning="r", criterion="c", output="o", judge_id=judge,
                   prompt_version="p#direct", prompt_tokens=1, completion_tokens=1,
                   latency_s=0.0)


def test_a_single_class_and_few_labels_are_said_plainly() -> None:
    examples = [Example(i + 1, "judged", "o", "c", 1) for i in range(4)]
    (report,) = measure([_verdict(0.7), _verdict(0.4), _verdict(0.9), _verdict(0.8)],
                        examples)
    text = "\n".join(report_lines([report], "labels.jsonl"))
    assert "AUROC                      undefined: AUROC is undefined: every label is 1" in text
    assert "only 4 judged example(s): every interval below is wide" in text
    assert "every judged label is 1" in text and report.fitted is None
    assert report.agreement == 0.75


def test_a_likert_table_shows_ratings_crowding_to_the_middle() -> None:
    # Labels 1..5; the judge's expected ratings all sit between 2.6 and 3.4.
    examples = [Example(i + 1, "judged", "o", "c", label, scale=5)
                for i, label in enumerate([1, 1, 3, 5, 5, 2, 4, 3, 5, 1])]
    ratings = {1: 2.6, 2: 2.8, 3: 3.0, 4: 3.2, 5: 3.4}
    verdicts = [_verdict((ratings[e.label] - 1) / 4) for e in examples]
    (report,) = measure(verdicts, examples)
    table = "\n".join(report_lines([report], "l.jsonl"))
    assert "judged, ratings 1-5: 10 examples, 4 labelled 1" in table  # labels 4 and 5
    assert "      1  3                  2.60       0%         0%" in table
    assert "      5  3                  3.40       0%         0%" in table


# --- runs -----------------------------------------------------------------------------------

LABELS = [
    {"kind": "judged", "output": f"a good reply {i}", "criteria": "The reply is good",
     "label": 1} for i in range(6)
] + [
    {"kind": "judged", "output": f"a poor reply {i}", "criteria": "The reply is good",
     "label": 0} for i in range(5)
] + [
    # Labelled good although the stub judges it poor (0.2): a TPR of 1 needs a threshold
    # at or below 0.2, and balanced accuracy then says what that costs.
    {"kind": "judged", "output": "a fine reply", "criteria": "The reply is good", "label": 1},
]
TESTS = """
    from pytest_llmjudge import assert_judged

    def test_fine():
        assert_judged("a fine reply, once more", "The reply is good")
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    (pytester.path / "labels.jsonl").write_text("\n".join(json.dumps(x) for x in LABELS))
    return stub_project(pytester, monkeypatch, test_app=TESTS)


def test_a_fitted_threshold_is_written_and_applied_where_tests_give_none(
    project: pytest.Pytester,
) -> None:
    fit = project.runpytest("--llmjudge-calibrate=labels.jsonl", "--llmjudge-calibrate-"
                            "target=tpr=1.0", "--llmjudge-update-calibration")
    fit.assert_outcomes(passed=1, failed=1)  # test_fine fails at the default 0.5
    fit.stdout.fnmatch_lines([
        "calibration on labels.jsonl (95% bootstrap intervals)",
        "judged: 12 examples, 7 labelled 1; judge stub:v1, prompt criterion.v1@*#direct",
        "  threshold in effect 0.5 (default)",
        "  AUROC                      0.929 *", "  accuracy                   0.917 *",
        "*confusion at 0.5: label 1 -> judged 1: 6, judged 0: 1; label 0 -> judged 1: 0, "
        "judged 0: 5",
        "  fitted threshold 0.0000: accuracy 0.583, balanced accuracy 0.500, TPR 1.000, "
        "TNR 0.000*",
        "wrote 1 fitted threshold(s) and 0 head(s) to *llmjudge-calibration.json*"])
    entry = json.loads((project.path / "llmjudge-calibration.json").read_text())["entries"][0]
    assert entry["judge"] == "stub:v1" and entry["kind"] == "judged"
    assert entry["objective"] == "TPR >= 1" and entry["threshold"] == 0.0
    applied = project.runpytest()
    applied.assert_outcomes(passed=1)
    project.makepyfile(test_app=TESTS.replace('"The reply is good")',
                                              '"The reply is good", threshold=0.5)'))
    given = project.runpytest()
    given.assert_outcomes(failed=1)  # a threshold the test gives wins over calibration


def test_the_report_says_where_a_calibrated_threshold_came_from(
    project: pytest.Pytester,
) -> None:
    project.runpytest("--llmjudge-calibrate=labels.jsonl", "--llmjudge-update-calibration")
    project.makepyfile(test_app="""
        from pytest_llmjudge import assert_judged

        def test_poor():
            assert_judged("a poor reply, new", "The reply is good")
    """)
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E   *judged assertion failed: score 0.200 < threshold 0.55*",
        "E *threshold 0.55: calibrated in *llmjudge-calibration.json on 12 labels from "
        "labels.jsonl (balanced accuracy)"])


def test_a_calibration_for_another_judge_is_ignored_with_a_warning(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project.runpytest("--llmjudge-calibrate=labels.jsonl", "--llmjudge-update-calibration")
    monkeypatch.setenv("STUB_JUDGE", "stub:v2")
    result = project.runpytest()
    result.assert_outcomes(failed=1)  # the default 0.5 again
    result.stdout.fnmatch_lines([
        "warning: calibration file *llmjudge-calibration.json has a judged threshold fitted "
        "for judge stub:v1 with prompt criterion.v1@*#direct; this run judges with stub:v2 "
        "and prompt criterion.v1@*#direct, so it is ignored*"])


def test_the_agreement_gate_fails_the_run(project: pytest.Pytester) -> None:
    passing = project.runpytest("--llmjudge-calibrate=labels.jsonl",
                                "--llmjudge-min-agreement=0.9", "-k", "calibration")
    passing.assert_outcomes(passed=1)
    failing = project.runpytest("--llmjudge-calibrate=labels.jsonl",
                                "--llmjudge-min-agreement=0.95", "-k", "calibration")
    failing.assert_outcomes(failed=1)
    assert failing.ret == pytest.ExitCode.TESTS_FAILED
    failing.stdout.fnmatch_lines([
        "*CalibrationGateError: the judge agrees with too few labels in labels.jsonl "
        "(--llmjudge-min-agreement=0.95):",
        "  judged: 0.917 at threshold 0.5 (default), on 12 examples"])


def test_a_corrupt_calibration_file_errors_the_judged_tests(project: pytest.Pytester) -> None:
    (project.path / "llmjudge-calibration.json").write_text("{not json")
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*CalibrationFileError: cannot read calibration file "
                                 "*llmjudge-calibration.json (*); fit it again with*"])


def test_the_threshold_order_puts_the_calibration_file_between_cli_and_ini(
    project: pytest.Pytester,
) -> None:
    # The stub scores "a fine reply" 0.2; the file's fitted threshold is 0.0 (it passes).
    project.runpytest("--llmjudge-calibrate=labels.jsonl", "--llmjudge-calibrate-"
                      "target=tpr=1.0", "--llmjudge-update-calibration")
    project.runpytest().assert_outcomes(passed=1)  # calibration beats the default
    cli = project.runpytest("--llmjudge-threshold=0.5")
    cli.assert_outcomes(failed=1)  # the command line beats the committed file
    cli.stdout.fnmatch_lines(["E   *score 0.200 < threshold 0.50*"])
    project.makeini("[pytest]\nllmjudge_threshold = 0.5\n"
                    "asyncio_default_fixture_loop_scope = function\n")
    project.runpytest().assert_outcomes(passed=1)  # the file beats the ini file
    marked = TESTS.replace("    def test_fine", "    import pytest\n\n"
                           "    @pytest.mark.llmjudge(threshold=0.5)\n    def test_fine")
    project.makepyfile(test_app=marked)
    project.runpytest().assert_outcomes(failed=1)  # and a marker beats the file


@pytest.mark.parametrize(("entry", "message"), [
    ({"threshold": "0.7"}, "entry 1 has threshold='0.7', not a float"),
    ({"threshold": 7}, "entry 1 has threshold=7, outside 0..1"),
    ({"threshold": True}, "entry 1 has threshold=True, not a float"),
    ({"n": 0}, "entry 1 was fitted on n=0 labels"),
    ({"extra": 1}, "entry 1 has missing fields [[][]] or unknown fields [[]'extra'[]]"),
])
def test_a_hand_edited_calibration_entry_is_checked(
    project: pytest.Pytester, entry: dict[str, object], message: str,
) -> None:
    project.runpytest("--llmjudge-calibrate=labels.jsonl", "--llmjudge-update-calibration")
    path = project.path / "llmjudge-calibration.json"
    document = json.loads(path.read_text())
    document["entries"][0].update(entry)
    path.write_text(json.dumps(document))
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*CalibrationFileError: *llmjudge-calibration.json: "
                                 f"{message}; fix it, or fit the file again*"])


def test_checklist_examples_are_calibrated_with_the_assertions_own_request(
    project: pytest.Pytester,
) -> None:
    # The calibration run builds each request with the assertion's own builder: a
    # checklist item shows its instruction (null), as assert_checklist does. (Built
    # apart, it lacked the instruction and the prompt could not be rendered.)
    rows = [{"kind": "checklist", "output": f"a {word} reply", "criteria": "Is it good?",
             "label": label} for word, label in (("good", 1), ("good", 1), ("poor", 0))]
    (project.path / "items.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    result = project.runpytest("--llmjudge-calibrate=items.jsonl", "-k", "calibration")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "checklist: 3 examples, 2 labelled 1; judge stub:v1, prompt checklist.v1@*#direct",
        "*confusion at 0.5: label 1 -> judged 1: 2, judged 0: 0; label 0 -> judged 1: 0, "
        "judged 0: 1"])


def test_a_bad_labels_file_is_an_error_naming_the_line(project: pytest.Pytester) -> None:
    (project.path / "labels.jsonl").write_text(
        '{"kind": "judged", "output": "x", "criteria": "c", "label": 1}\n{"kind": "judged"}\n')
    result = project.runpytest("--llmjudge-calibrate=labels.jsonl")
    result.assert_outcomes(passed=0, errors=1, failed=1)
    result.stdout.fnmatch_lines(["*LabelsFileError: labels.jsonl:2: missing field(s) output, "
                                 "criteria, label for kind 'judged'*"])


def test_the_command_calibrates_a_real_model_and_runs_nothing_else(
    judged: pytest.Pytester,
) -> None:
    rows = [{"kind": "judged", "output": text, "criteria": "The reply is polite", "label": y}
            for text, y in (("Thank you so much for your patience!", 1),
                            ("Happy to help, have a lovely day.", 1),
                            ("Go away.", 0), ("Stop wasting my time.", 0))]
    rows.append({"kind": "grounded", "output": "The warranty lasts two years.",
                 "criteria": "grounded", "context": "Kettles have a two-year warranty.",
                 "label": 1})
    (judged.path / "labels.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    judged.makepyfile(test_other="def test_other():\n    raise AssertionError('ran')\n")
    result = judged.run(sys.executable, "-m", "pytest_llmjudge", "calibrate", "labels.jsonl",
                        "--llmjudge-update-calibration")
    assert result.ret == 0, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines([
        "judged: 4 examples, 2 labelled 1; judge llamacpp:smollm2-135m@sha256:b179c9523d0e*",
        "  AUROC *", "*fitted threshold *",
        "grounded: 1 examples, 1 labelled 1;*",
        "  AUROC                      undefined: AUROC is undefined: every label is 1*",
        "*wrote 1 fitted threshold(s) and 0 head(s) to *", "*1 passed*"])
    assert "test_other" not in result.stdout.str()
    document = json.loads((judged.path / "llmjudge-calibration.json").read_text())
    (entry,) = document["entries"]
    assert entry["prompt"].startswith("criterion.v1@") and not math.isnan(entry["threshold"])
