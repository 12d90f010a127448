"""Learned judge heads: the fit, the file, and a head fitted, saved, applied and reported
with the real 135M model (its hidden state read from the same forward pass as P(YES))."""

from __future__ import annotations

import base64
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from stubs import stub_project

from pytest_llmjudge.backends.base import Completion, CompletionRequest, Message, ReplySpec
from pytest_llmjudge.calibration import head_fit, heads, thresholds_file
from pytest_llmjudge.judging.reply_formats import ANSWER
from pytest_llmjudge.storage.cache import call_key, completion_from_json, completion_to_json


def _states(rows: np.ndarray) -> list[bytes]:
    return [row.astype("<f2").tobytes() for row in rows]


def _separable(n: int = 60, size: int = 32, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Hidden states whose first dimension carries the label, in noise."""
    rng = np.random.default_rng(seed)
    y = np.array([i % 2 for i in range(n)], dtype=float)
    x = rng.normal(size=(n, size))
    x[:, 0] += 2.5 * (2 * y - 1)
    return x, y


def test_a_head_ranks_by_the_hidden_signal_that_p_yes_misses() -> None:
    x, y = _separable()
    p_yes = [0.5] * len(y)  # P(YES) says nothing here
    design = heads.design(_states(x), p_yes)
    oof = heads.out_of_fold(design, y, None, seed=0)
    from pytest_llmjudge.calibration.metrics import auroc

    assert auroc(list(oof), [int(v) for v in y]) > 0.9
    model = heads.fit_logistic(design, y, heads.choose_penalty(design, y, seed=0))
    # The weights are in the raw units: the signal dimension dominates.
    assert abs(model.weights[0]) == max(abs(model.weights[:-1]))


def test_more_penalty_shrinks_the_weights() -> None:
    x, y = _separable()
    design = heads.design(_states(x), [0.5] * len(y))
    loose = heads.fit_logistic(design, y, 0.1)
    tight = heads.fit_logistic(design, y, 1000.0)
    assert np.linalg.norm(tight.weights) < np.linalg.norm(loose.weights)


def test_a_strong_penalty_falls_back_to_p_yes_never_below_it() -> None:
    """logit P(YES) is not penalised: a head with no support in its labels for the hidden
    state ranks exactly as P(YES) does."""
    from pytest_llmjudge.calibration.metrics import auroc

    rng = np.random.default_rng(2)
    y = np.array([i % 2 for i in range(60)], dtype=float)
    p_yes = list(np.clip(0.5 + 0.3 * (2 * y - 1) + rng.normal(0, 0.25, 60), 0.01, 0.99))
    design = heads.design(_states(rng.normal(size=(60, 32))), p_yes)
    model = heads.fit_logistic(design, y, 1e9)
    labels = [int(v) for v in y]
    assert auroc(list(model.predict(design)), labels) == auroc(p_yes, labels)
    assert abs(model.weights[-1]) > 0.1 and np.abs(model.weights[:-1]).max() < 1e-6


def test_too_few_labels_say_how_many_more() -> None:
    why = heads.enough_labels("grounded", 4, 12)
    assert why is not None
    assert "at least 10 grounded examples labelled 1 and 10 labelled 0" in why
    assert "label 6 more positive and 0 more negative" in why
    assert heads.enough_labels("grounded", 10, 10) is None


def _observed(x: np.ndarray, y: np.ndarray, p_yes: list[float]) -> head_fit.Observed:
    return head_fit.Observed("grounded", "llamacpp:m@sha256:1", "grounded.v1@x#direct",
                             list(_states(x)), p_yes, [int(v) for v in y])


def test_a_head_that_does_not_beat_p_yes_is_not_written() -> None:
    x, y = _separable()
    noise = np.random.default_rng(1).normal(size=x.shape)
    perfect = [0.9 if v else 0.1 for v in y]  # P(YES) already ranks every row right
    report = head_fit.fit(_observed(noise, y, perfect), "labels.jsonl", seed=0)
    assert report.head is not None and report.why_not.startswith(
        "the head does not beat P(YES) under cross-validation")
    assert "--llmjudge-fit-head-force" in report.why_not
    better = head_fit.fit(_observed(x, y, [0.5] * len(y)), "labels.jsonl", seed=0)
    assert better.head is not None and not better.why_not
    assert better.head_auroc is not None and better.p_yes_auroc is not None
    assert better.head_auroc.value > better.p_yes_auroc.value
    lines = "\n".join(head_fit.report_lines([better]))
    assert "AUROC     head" in lines and "P(YES)" in lines


def test_a_judge_without_hidden_states_gets_no_head_and_is_told_why() -> None:
    x, y = _separable(n=20)
    observed = _observed(x, y, [0.5] * 20)
    observed.states = [None] * 20
    report = head_fit.fit(observed, "labels.jsonl", seed=0)
    assert report.head is None and "shows no hidden state" in report.why_not


def _head(size: int = 4, **changes: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "judge": "stub:v1", "prompt": "p", "kind": "grounded", "features": heads.FEATURES,
        "size": size, "weights": [0.1] * (size + 1), "bias": 0.0, "fitted_on": "l.jsonl",
        "n": 40, "penalty": 1.0, "cv_auroc": 0.8, "cv_auroc_p_yes": 0.7}
    raw.update(changes)
    return raw


@pytest.mark.parametrize(("changes", "message"), [
    ({"weights": [0.1, "x", 0.0, 0.0, 0.0]}, "weights that are not a list of finite numbers"),
    ({"weights": [0.1, 0.2]}, "has 2 weights for size 4 (needs size + 1)"),
    ({"bias": float("nan")}, "has bias=nan, not a finite number"),
    ({"features": "hidden_state"}, "reads features 'hidden_state'"),
    ({"n": 3}, "was fitted on n=3 labels"),
])
def test_a_corrupt_head_is_refused_with_how_to_refit(
    changes: dict[str, object], message: str,
) -> None:
    with pytest.raises(heads.HeadError, match=r"head 1 .*fit it again with python -m "
                       r"pytest_llmjudge calibrate LABELS --llmjudge-fit-head") as err:
        heads.head_from_json(_head(**changes), "cal.json: head 1")
    assert message in str(err.value)


def test_a_head_of_another_shape_says_to_refit() -> None:
    head = heads.head_from_json(_head(size=4), "cal.json: head 1")
    state = np.zeros(8, dtype="<f2").tobytes()
    with pytest.raises(heads.HeadError, match="reads 4 hidden dimensions, and this judge's "
                       "hidden state has 8; fit it again"):
        head.score(state, 0.5)
    assert 0.0 < head.score(np.zeros(4, dtype="<f2").tobytes(), 0.5) < 1.0


def test_heads_round_trip_through_the_calibration_file_and_version_1_still_reads(
    tmp_path: Path,
) -> None:
    path = tmp_path / "cal.json"
    head = heads.head_from_json(_head(), "x: head 1")
    thresholds_file.write(path, [], [head])
    entries, read = thresholds_file.read_all(path)
    assert entries == [] and [h.to_json() for h in read] == [head.to_json()]
    assert json.loads(path.read_text())["version"] == 2
    path.write_text(json.dumps({"format": thresholds_file.FORMAT, "version": 1,
                                "entries": []}))
    assert thresholds_file.read_all(path) == ([], [])


def test_a_recorded_hidden_state_round_trips_and_a_damaged_one_is_refused() -> None:
    state = np.arange(6, dtype="<f2").tobytes()
    completion = Completion('{"answer": "YES"}', {"answer": {"YES": 0.7, "NO": 0.3}},
                            hidden_state=state)
    data = completion_to_json(completion)
    assert completion_from_json(json.loads(json.dumps(data))).hidden_state == state
    for bad in ("not base64!", base64.b64encode(b"\x00").decode(), 7,
                base64.b64encode(np.array([np.inf], dtype="<f2").tobytes()).decode()):
        with pytest.raises(ValueError, match="hidden state"):
            completion_from_json({**data, "hidden_state": bad})


def test_asking_for_the_hidden_state_keys_the_call_apart_and_leaves_old_keys_alone() -> None:
    request = CompletionRequest([Message("user", "hi")], ReplySpec((ANSWER,)))
    plain = call_key("j", "p", request, 0)
    wanted = call_key("j", "p", CompletionRequest(request.messages, request.reply,
                                                  hidden_state=True), 0)
    assert "hidden_state" not in plain.sampling and plain.digest != wanted.digest


def test_packaged_heads_read_and_each_is_for_the_default_judge_and_prompt() -> None:
    """The pairwise head ships; no one-pass head does (benchmarks/quality.py: none beat
    P(YES) on a set it was not fitted on). Each must match the default judge and the
    current prompts, or a prompt edit would retire it silently."""
    from pytest_llmjudge.backends.models import resolve
    from pytest_llmjudge.judging.prompts import load

    model = resolve("qwen2.5-coder-1.5b")
    for head in thresholds_file.packaged_heads():
        assert head.source == thresholds_file.PACKAGED
        assert head.judge == f"llamacpp:{model.name}@sha256:{model.sha256[:12]}"  # type: ignore[union-attr]
        if head.kind == "pairwise":  # both prompts a comparison asks: an order, then alone
            assert head.prompt == (f"{load('pairwise.v1', 'direct pair').version}+"
                                   f"{load('checklist.v1', 'direct').version}")
        else:
            assert head.prompt == load(f"{head.kind}.v1", "direct").version


def test_the_files_head_wins_over_a_packaged_one_and_packaged_ones_are_never_warned_about(
) -> None:
    mine = heads.head_from_json(_head(judge="j", prompt="p"), "cal.json: head 1")
    shipped = dataclasses.replace(mine, bias=1.0, source=thresholds_file.PACKAGED)
    other = dataclasses.replace(shipped, judge="another")
    calibration = thresholds_file.Calibration("cal.json", (), (mine, shipped, other))
    assert calibration.find_head("j", "p", "grounded") == (mine, [])
    found, warned = thresholds_file.Calibration("", (), (other,)).find_head(
        "j", "p", "grounded")
    assert found is None and warned == []


# -- plumbing with the stub (it shows no hidden state) ----------------------------------
GROUNDED_TESTS = """
    from pytest_llmjudge import assert_grounded

    def test_answer():
        assert_grounded("a good answer", context="The kettle has a two-year warranty.")
"""


def _labels(n_pos: int, n_neg: int) -> str:
    rows = [{"kind": "grounded", "output": f"a good answer {i}", "criteria": "grounded",
             "context": "Kettles have a two-year warranty.", "label": 1} for i in range(n_pos)]
    rows += [{"kind": "grounded", "output": f"a poor answer {i}", "criteria": "grounded",
              "context": "Kettles have a two-year warranty.", "label": 0}
             for i in range(n_neg)]
    return "\n".join(json.dumps(r) for r in rows)


def test_fit_head_with_too_few_labels_says_how_many(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = stub_project(pytester, monkeypatch, test_app=GROUNDED_TESTS)
    (project.path / "labels.jsonl").write_text(_labels(3, 4))
    result = project.runpytest("--llmjudge-calibrate=labels.jsonl", "--llmjudge-fit-head",
                               "-k", "calibration")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*needs at least 10 grounded examples labelled 1 and 10 labelled 0*the labels have 3 "
        "and 4: label 7 more positive and 6 more negative",
        # pytest 8.0 prints no message after an item's ERROR in the short summary.
        "ERROR ::llmjudge_calibration*"])


def test_a_judge_without_hidden_states_is_told_heads_do_not_apply(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = stub_project(pytester, monkeypatch, test_app=GROUNDED_TESTS)
    (project.path / "labels.jsonl").write_text(_labels(10, 10))
    result = project.runpytest("--llmjudge-calibrate=labels.jsonl", "--llmjudge-fit-head",
                               "--llmjudge-update-calibration", "-k", "calibration")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*grounded: judge stub:v1 shows no hidden state (a remote "
                                 "judge has none)*"])
    assert not (project.path / "llmjudge-calibration.json").exists()


def _calibration_with(path: Path, head: dict[str, object]) -> None:
    path.write_text(json.dumps({"format": thresholds_file.FORMAT, "version": 2,
                                "entries": [], "heads": [head]}))


def test_a_head_for_another_judge_is_ignored_with_a_warning(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = stub_project(pytester, monkeypatch, test_app=GROUNDED_TESTS)
    _calibration_with(project.path / "llmjudge-calibration.json",
                      _head(judge="llamacpp:other@sha256:0", prompt="grounded.v1@x#direct"))
    result = project.runpytest("--llmjudge-strategy=logprob")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "warning: *llmjudge-calibration.json has a grounded head fitted for judge "
        "llamacpp:other@sha256:0 with prompt grounded.v1@x#direct; this run judges with "
        "stub:v1 and prompt grounded.v1@*#direct, so it is ignored*"])


def test_a_corrupt_head_file_errors_the_judged_tests(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = stub_project(pytester, monkeypatch, test_app=GROUNDED_TESTS)
    _calibration_with(project.path / "llmjudge-calibration.json", _head(weights=[1.0]))
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*HeadError: *llmjudge-calibration.json: head 1 has 1 "
                                 "weights for size 4 (needs size + 1); fit it again with*"])
    off = project.runpytest("--llmjudge-heads=off")
    off.assert_outcomes(passed=1)  # off: the file's heads are not even read


def test_an_unknown_heads_setting_is_an_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = stub_project(pytester, monkeypatch, test_app=GROUNDED_TESTS)
    result = project.runpytest("--llmjudge-heads=mine")
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*llmjudge_heads='mine' is not a source of heads; use "
                                 "packaged*"])


# -- mechanics with the real 135M model ---------------------------------------------------
CONTEXT = "The Aria kettle holds 1.7 litres, boils in four minutes and has a two-year warranty."
SUPPORTED = ["The kettle holds 1.7 litres.", "It boils in four minutes.",
             "The warranty lasts two years.", "It has a two-year warranty.",
             "Its capacity is 1.7 litres.", "Boiling takes four minutes.",
             "The Aria kettle holds 1.7 litres.", "You get a two-year warranty.",
             "It takes four minutes to boil.", "The kettle's warranty is two years long."]
UNSUPPORTED = ["The kettle holds three litres.", "It boils in ten seconds.",
               "The warranty lasts ten years.", "It comes with a lifetime warranty.",
               "The kettle is made of gold.", "It can also toast bread.",
               "The Aria kettle was designed in 1850.", "It plays music while boiling.",
               "It is sold only in Japan.", "The kettle is powered by solar panels."]


def kettle_project(project: pytest.Pytester) -> None:
    """labels.jsonl of the 20 kettle claims, and one grounded test that always passes
    (threshold 0), for a head to be fitted on and then applied to."""
    rows = [{"kind": "grounded", "output": text, "criteria": "grounded", "context": CONTEXT,
             "label": label} for texts, label in ((SUPPORTED, 1), (UNSUPPORTED, 0))
            for text in texts]
    (project.path / "labels.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    project.makepyfile(test_app=f"""
        from pytest_llmjudge import assert_grounded

        def test_capacity():
            assert_grounded("The kettle has a capacity of 1.7 litres.", context={CONTEXT!r},
                            threshold=0.0)
    """)


def test_a_head_is_fitted_saved_applied_and_reported_with_a_real_model(
    judged: pytest.Pytester,
) -> None:
    kettle_project(judged)
    fit = judged.run(sys.executable, "-m", "pytest_llmjudge", "calibrate", "labels.jsonl",
                     "--llmjudge-fit-head", "--llmjudge-fit-head-force",
                     "--llmjudge-update-calibration", "--llmjudge-report=fit.json")
    assert fit.ret == 0, fit.stdout.str()[-3000:]
    fit.stdout.fnmatch_lines([
        "heads (--llmjudge-fit-head): nested 5-fold cross-validation*",
        "  grounded: 20 examples", "    AUROC     head * P(YES) *",
        "    accuracy  head * P(YES) *",
        "    regularisation * (chosen by cross-validation); 576 hidden dimensions + logit "
        "P(YES)", "*head written: later runs score these requests with it",
        "wrote 1 fitted threshold(s) and 1 head(s) to *llmjudge-calibration.json*"])
    (head,) = json.loads((judged.path / "llmjudge-calibration.json").read_text())["heads"]
    assert head["kind"] == "grounded" and head["size"] == 576 and len(head["weights"]) == 577
    assert head["judge"].startswith("llamacpp:smollm2-135m@sha256:")
    assert head["prompt"].startswith("grounded.v1@") and head["prompt"].endswith("#direct")

    # A later run scores the assertion with the head, and says so beside P(YES).
    used = judged.runpytest("--llmjudge-strategy=logprob", "--llmjudge-report=run.json")
    used.assert_outcomes(passed=1)
    (verdict,) = [v for t in json.loads((judged.path / "run.json").read_text())["tests"]
                  for v in t["verdicts"]]
    assert verdict["score_source"].startswith(
        "the fitted grounded head in ") and "; P(YES) " in verdict["score_source"]
    p_yes = verdict["votes"][0]["p_yes"]
    expected = heads.head_from_json(head, "x: head 1").score(_state_of(judged), p_yes)
    assert verdict["score"] == pytest.approx(expected, abs=1e-9)

    # Off: the same request scored by P(YES), with no head named.
    off = judged.runpytest("--llmjudge-strategy=logprob", "--llmjudge-heads=off",
                           "--llmjudge-report=off.json")
    off.assert_outcomes(passed=1)
    (plain,) = [v for t in json.loads((judged.path / "off.json").read_text())["tests"]
                for v in t["verdicts"]]
    # Scored by its own P(YES). (Not equal to the head run's P(YES) to the last digit:
    # without the hidden state the answer token is decoded with the rest of the prompt,
    # and llama.cpp's arithmetic differs slightly between batch shapes.)
    assert plain["score_source"] == "" and plain["score"] == plain["votes"][0]["p_yes"]

    # A head of the wrong size for this model: the judged test ERRORs, saying how to refit.
    document = json.loads((judged.path / "llmjudge-calibration.json").read_text())
    document["heads"][0].update(size=8, weights=[0.0] * 9)
    (judged.path / "llmjudge-calibration.json").write_text(json.dumps(document))
    wrong = judged.runpytest("--llmjudge-strategy=logprob")
    wrong.assert_outcomes(errors=1)
    wrong.stdout.fnmatch_lines(["*HeadError: the grounded head in *llmjudge-calibration.json "
                                "reads 8 hidden dimensions, and this judge's hidden state has "
                                "576; fit it again*"])


def _state_of(project: pytest.Pytester) -> bytes:
    """The hidden state the run recorded for its one assertion, from the cache export."""
    export = project.path / "export.jsonl"
    project.runpytest("--llmjudge-strategy=logprob", f"--llmjudge-cache-export={export}")
    lines = [json.loads(line) for line in export.read_text().splitlines()[1:]]
    (state,) = [line["reply"]["hidden_state"] for line in lines
                if "hidden_state" in line["reply"]]
    return base64.b64decode(state)
