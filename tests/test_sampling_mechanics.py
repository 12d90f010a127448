"""Sampled tests and the drift check on the real 135M model: the runs are judged by a
real llama.cpp model, recorded, replayed in CI from an export, and a recorded export is
re-judged. The 135M model's opinion is never what is tested: thresholds of 0 and 1
force a pass or a failure where the outcome matters."""

from __future__ import annotations

import json

import pytest
from stub_backend import stub_conftest

pytestmark = pytest.mark.mechanics

SAMPLED = """
    import itertools
    import pytest
    from pytest_llmjudge import assert_grounded, assert_judged

    CONTEXT = "The shop opens at 9 am and closes at 5 pm."
    answers = itertools.cycle(["It opens at 9 am.", "It opens at noon.", "9 am."])

    @pytest.mark.llmjudge_sample(n=5, min_pass_rate=0.6)
    def test_always_passes():
        reply = next(answers)
        assert_judged(reply, "The reply says when the shop opens", threshold=0.0)
        assert_grounded(reply, context=CONTEXT, threshold=0.0)

    @pytest.mark.llmjudge_sample(n=5, min_pass_rate=0.6)
    def test_never_passes():
        assert_judged(next(answers), "The reply says when the shop opens", threshold=1.0)
"""


def test_sampled_tests_judge_each_run_and_replay_in_ci(judged: pytest.Pytester) -> None:
    judged.makepyfile(test_shop=SAMPLED)
    result = judged.runpytest("--llmjudge-report=r.json", "--llmjudge-cache-export=j.jsonl")
    result.assert_outcomes(passed=1, failed=1)
    tests = {t["nodeid"].split("::")[-1]: t
             for t in json.loads((judged.path / "r.json").read_text())["tests"]}
    always = tests["test_always_passes"]
    # 3 passes of at most 5 meet 0.6: three runs, two judged asserts each.
    assert (always["sampled"]["passes"], always["sampled"]["samples"]) == (3, 3)
    assert [v["sample"] for v in always["verdicts"]] == [1, 1, 2, 2, 3, 3]
    assert {v["judge_id"].split(":")[0] for v in always["verdicts"]} == {"llamacpp"}
    outputs = [v["output"] for v in always["verdicts"][::2]]
    assert outputs == ["It opens at 9 am.", "It opens at noon.", "9 am."]
    never = tests["test_never_passes"]["sampled"]
    assert (never["outcome"], never["passes"], never["samples"]) == ("FAIL", 0, 3)
    result.stdout.fnmatch_lines([
        "*SampledTestFailure: sampled test: pass rate 0/3 (0.00, 95% interval 0.00-0.56) "
        "against 0.6: FAIL*", "*--- run 1 failed ---*", "*P(YES)*"])

    # CI: a fresh cache, replay only, from the export. The same runs, re-judged from
    # the recorded replies: the same pass rates, and no call made.
    result = judged.runpytest("--llmjudge-cache-dir=fresh", "--llmjudge-record-mode=none",
                              "--llmjudge-cache-import=j.jsonl", "--llmjudge-report=r2.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*judge calls: 0 made, * replayed from the cache*"])
    again = {t["nodeid"].split("::")[-1]: t["sampled"]
             for t in json.loads((judged.path / "r2.json").read_text())["tests"]}
    assert again["test_always_passes"]["passes"] == 3
    assert again["test_never_passes"]["samples"] == 3


DRIFTING = """
    from pytest_llmjudge import assert_judged

    def test_capital():
        assert_judged("Paris is the capital of France.", "The reply names a capital city")

    def test_weather():
        assert_judged("It may rain tomorrow.", "The reply names a capital city")
"""


def test_drift_rejudges_an_export_with_the_real_judge(judged: pytest.Pytester) -> None:
    judged.makepyfile(test_drifting=DRIFTING)
    judged.runpytest("--llmjudge-cache-export=j.jsonl", "--llmjudge-threshold=0.0")
    recorded = [json.loads(line) for line in (judged.path / "j.jsonl").read_text()
                .splitlines()[1:]]
    assert {r["asked"]["threshold"] for r in recorded} == {0.0}
    assert all(r["judge"].startswith("llamacpp:") for r in recorded)
    # The same judge: a warning that nothing can drift, and the figures all the same.
    result = judged.runpytest("--llmjudge-drift=j.jsonl", "--ignore-glob=*", "-rA")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*llmjudge drift on j.jsonl: 2 recorded judgment(s) re-judged by llamacpp:*",
        "*warning: the judge and its prompts are the ones that recorded these judgments*",
        "*agreement 1.000*", "*flips: 0 (0 PASS->FAIL, 0 FAIL->PASS)*"])

    # Judgments a stub recorded at threshold 0.5 (YES, P 0.9, only to "Paris"),
    # re-judged by the real model with the gate at 0 flips: whatever the 135M says,
    # the report names both judges and the gate holds its count to the flips listed.
    judged.makeconftest(stub_conftest("keyword", word="Paris"))
    judged.runpytest("--llmjudge-cache-export=stub.jsonl", "--llmjudge-cache-dir=stub")
    judged.makeconftest("")
    result = judged.runpytest("--llmjudge-drift=stub.jsonl", "--ignore-glob=*", "-rA",
                              "--llmjudge-max-flips=0", "--llmjudge-report=d.json")
    text = result.stdout.str()
    assert "re-judged by llamacpp:" in text and "(recorded by stub:v1)" in text
    assert "warning: the judge and its prompts" not in text
    # Only the llmjudge section: on CI pytest prints the gate's failure, flips and all,
    # in full in the short test summary as well.
    summary = text.split("= llmjudge =")[-1].split("short test summary info")[0]
    listed = summary.count("PASS->FAIL 0.") + summary.count("FAIL->PASS 0.")
    assert f"flips: {listed} (" in summary
    assert ("DriftGateError" in text) == (listed > 0)
    assert result.ret == (pytest.ExitCode.TESTS_FAILED if listed else pytest.ExitCode.OK)


BASELINE = """
    import itertools
    import os
    import pytest
    from pytest_llmjudge import assert_judged

    runs = itertools.count()

    @pytest.mark.llmjudge_sample(n=10, min_pass_rate=0.1)
    def test_app():
        i = next(runs)
        # DROP=1 fails every other run (threshold 1), else every run passes (0).
        threshold = 1.0 if os.environ.get("DROP") and i % 2 else 0.0
        assert_judged(f"Reply number {i % 3}.", "The reply is short", threshold=threshold)
"""


def test_a_stored_pass_rate_gates_a_significant_drop(judged: pytest.Pytester,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    judged.makepyfile(test_rate=BASELINE)
    monkeypatch.delenv("DROP", raising=False)
    judged.runpytest("--llmjudge-update-baselines").assert_outcomes(passed=1)
    stored = judged.path / "__llmjudge__/baselines/test_rate/test_app.json"
    assert json.loads(stored.read_text())["pass_rate"] == {"passes": 10, "samples": 10}
    # 5/10 meets the bar of 0.1, but against 10/10 it is a drop with
    # p = C(15,5) C(5,5) / C(20,10) = 3003/184756 = 0.0163.
    monkeypatch.setenv("DROP", "1")
    result = judged.runpytest("--llmjudge-report=r.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*SampledTestFailure: pass rate 5/10 against 10/10 in the "
                                 "baseline, p = 0.0163: a significant drop*"])
    sampled = json.loads((judged.path / "r.json").read_text())["tests"][0]["sampled"]
    assert sampled["samples"] == 10 and sampled["p_value"] == pytest.approx(3003 / 184756)
