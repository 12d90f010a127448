"""Sampled tests, baseline pass rates and the drift check, around the stub judge: the
statistics' plumbing (runs counted, early stopping, reports, files, gates). The stub
says YES (P 0.9) to a judged text holding "good", else NO (P 0.2). The real judge's
part is in tests/test_sampling_mechanics.py."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET

import pytest
from stub_backend import stub_conftest
from stubs import stub_project

pytestmark = pytest.mark.plumbing

# An app that answers from a fixed script: run i (from 0) gives SCRIPT[i % len].
APP = """
    import itertools
    from pytest_llmjudge import assert_judged

    def make_app(script):
        answers = itertools.cycle(script)
        return lambda: next(answers)
"""


def sampled(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, body: str,
            **more: str) -> pytest.Pytester:
    return stub_project(pytester, monkeypatch,
                        test_app=textwrap.dedent(APP) + textwrap.dedent(body), **more)


def report(pytester: pytest.Pytester) -> dict[str, dict]:
    data = json.loads((pytester.path / "r.json").read_text())
    return {t["nodeid"].split("::")[-1]: t for t in data["tests"]}


def test_pass_rate_decides_and_stops_early(pytester: pytest.Pytester,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sampled(pytester, monkeypatch, """
        import pytest

        good = make_app(["good", "good", "bad", "good"])
        bad = make_app(["bad", "bad", "good", "bad"])

        @pytest.mark.llmjudge_sample(n=10, min_pass_rate=0.7)
        def test_mostly_good():
            assert_judged(good(), "It is good")

        @pytest.mark.llmjudge_sample(n=10, min_pass_rate=0.7)
        def test_mostly_bad():
            assert_judged(bad(), "It is good")
    """)
    result = pytester.runpytest("--llmjudge-report=r.json")
    result.assert_outcomes(passed=1, failed=1)
    tests = report(pytester)
    good = tests["test_mostly_good"]["sampled"]
    # 7 passes are needed of 10; the script passes 3 in 4, so run 9 gives the 7th.
    assert (good["outcome"], good["passes"], good["samples"]) == ("PASS", 7, 9)
    assert good["failed"] == [3, 7]
    bad = tests["test_mostly_bad"]["sampled"]
    # After 5 runs (bad, bad, good, bad, bad) 1 pass + 5 to come cannot reach the 7
    # needed, and the 95% Wilson interval of 1/5 (0.04-0.62) lies below 0.7: stop.
    assert (bad["outcome"], bad["passes"], bad["samples"]) == ("FAIL", 1, 5)
    assert [v["sample"] for v in tests["test_mostly_bad"]["verdicts"]] == [1, 2, 3, 4, 5]
    result.stdout.fnmatch_lines([
        "*SampledTestFailure: sampled test: pass rate 1/5 (0.20, 95% interval 0.04-0.62) "
        "against 0.7: FAIL (the bar is out of reach, and the interval lies below 0.7)",
        "*samples: 5 taken of at most 10; 1 passed, 4 failed (runs 1, 2, 4, 5)",
        "*--- run 1 failed ---",
        "*criterion: It is good", "*output:", "*bad",
        "*sampled tests (pass rate; change against the baseline, largest drop first):",
        "*FAIL     1/5 (0.04-0.62) vs 0.7  test_app.py::test_mostly_bad",
        "*PASS     7/9 (0.45-0.94) vs 0.7  test_app.py::test_mostly_good",
    ])
    # Each sample is its own judgment, but the same output is the same judge call: the
    # two texts were judged once each (and the failing one's reason written once), and
    # every other run replayed them.
    assert "stub calls: 3" in result.stdout.str()


def test_a_rate_below_the_bar_but_not_significantly_is_unstable(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    sampled(pytester, monkeypatch, """
        import pytest

        app = make_app(["good", "bad"])

        @pytest.mark.llmjudge_sample(n=4, min_pass_rate=0.75)
        def test_half():
            assert_judged(app(), "It is good")

        @pytest.mark.llmjudge(unstable="warn")
        @pytest.mark.llmjudge_sample(n=4, min_pass_rate=0.75)
        def test_half_warned():
            assert_judged(app(), "It is good")

        @pytest.mark.llmjudge(unstable="error")
        @pytest.mark.llmjudge_sample(n=4, min_pass_rate=0.75)
        def test_half_erred():
            assert_judged(app(), "It is good")
    """)
    result = pytester.runpytest("--llmjudge-report=r.json")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines([
        "*pass rate 2/4 (0.50, 95% interval 0.15-0.85) against 0.75: UNSTABLE (below the bar, "
        "but its interval still reaches it: more samples, n=, would settle it)*"])
    assert "UnstableVerdictWarning" in result.stdout.str()
    assert report(pytester)["test_half"]["sampled"]["outcome"] == "UNSTABLE"


def test_every_assert_of_a_run_must_pass_and_plain_asserts_count(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    sampled(pytester, monkeypatch, """
        import pytest
        from pytest_llmjudge import assert_checklist

        runs = iter(range(100))

        @pytest.mark.llmjudge_sample(n=3, min_pass_rate=1.0)
        def test_two_asserts():
            i = next(runs)
            assert_judged("good", "It is good")
            assert_judged("good" if i != 1 else "bad", "It is good too")

        @pytest.mark.llmjudge_sample(n=3, min_pass_rate=1.0)
        def test_plain_assert():
            assert_judged("good", "It is good")
            assert 1 + 1 == 3
    """)
    result = pytester.runpytest("--llmjudge-report=r.json")
    result.assert_outcomes(failed=2)
    tests = report(pytester)
    two = tests["test_two_asserts"]["sampled"]
    # 1 of 2 taken fails the bar of 1.0 over 3 outright: the interval of 1/2 lies
    # below 1.0, so the third run is never made.
    assert (two["passes"], two["samples"], two["failed"]) == (1, 2, [2])
    assert [v["sample"] for v in tests["test_two_asserts"]["verdicts"]] == [1, 1, 2, 2]
    result.stdout.fnmatch_lines(["*--- run 1 failed ---", "*assert (1 + 1) == 3"])


def test_bad_markers_and_runs_that_judge_nothing_are_errors(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    sampled(pytester, monkeypatch, """
        import pytest

        @pytest.mark.llmjudge_sample(n=0, min_pass_rate=0.8)
        def test_no_runs():
            pass

        @pytest.mark.llmjudge_sample(n=2.5, min_pass_rate=0.8)
        def test_half_a_run():
            pass

        @pytest.mark.llmjudge_sample(n=5, min_pass_rate=1.5)
        def test_rate_above_one():
            pass

        @pytest.mark.llmjudge_sample(n=5, min_pass_rate=0)
        def test_rate_zero():
            pass

        @pytest.mark.llmjudge_sample(n=5)
        def test_no_rate():
            pass

        @pytest.mark.llmjudge_sample(n=5, min_pass_rate=0.8, tries=3)
        def test_unknown_keyword():
            pass

        runs = iter(range(100))

        @pytest.mark.llmjudge_sample(n=5, min_pass_rate=0.8)
        def test_third_run_judges_nothing():
            if next(runs) != 2:
                assert_judged("good", "It is good")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=7)
    result.stdout.fnmatch_lines_random([
        "*n=0 is not a number of runs; use a whole number of at least 1, e.g. n=10",
        "*n=2.5 is not a number of runs*",
        "*min_pass_rate=1.5 is not a share of runs; use a number above 0 and at most 1*",
        "*min_pass_rate=0 is not a share of runs*",
        "*needs n (runs) and min_pass_rate (the share that must pass)*",
        "*unknown keyword(s) tries; it takes n, min_pass_rate, confidence and concurrent",
        "*test_third_run_judges_nothing is marked @pytest.mark.llmjudge_sample but its run 3 "
        "made no judged assertion, so it sampled nothing*",
    ])


def test_samples_run_concurrently_when_asked(pytester: pytest.Pytester,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    stub_project(pytester, monkeypatch, test_app="""
        import asyncio
        import threading
        import pytest
        from pytest_llmjudge import assert_judged, assert_judged_async

        seen = set()
        started = threading.Barrier(4, timeout=10)

        @pytest.mark.llmjudge_sample(n=8, min_pass_rate=1.0, concurrent=True)
        def test_threads():
            started.wait()  # four runs at once, or this times out
            seen.add(threading.get_ident())
            assert_judged("good", "It is good")

        def test_threads_were_four():
            assert len(seen) >= 4

        @pytest.mark.llmjudge_sample(n=6, min_pass_rate=1.0)
        async def test_tasks():
            await asyncio.sleep(0)
            await assert_judged_async("good", "It is good")
    """)
    pytester.makeini("[pytest]\nllmjudge_concurrency = 4\nasyncio_mode = auto\n"
                     "asyncio_default_fixture_loop_scope = function\n")
    result = pytester.runpytest("--llmjudge-report=r.json", "-p", "no:randomly")
    result.assert_outcomes(passed=3)
    tests = report(pytester)
    assert tests["test_threads"]["sampled"]["samples"] == 8
    assert sorted(v["sample"] for v in tests["test_threads"]["verdicts"]) == list(range(1, 9))
    assert sorted(v["sample"] for v in tests["test_tasks"]["verdicts"]) == list(range(1, 7))


def test_junit_and_html_carry_the_samples(pytester: pytest.Pytester,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    sampled(pytester, monkeypatch, """
        import pytest

        app = make_app(["good", "bad", "good"])

        @pytest.mark.llmjudge_sample(n=3, min_pass_rate=0.6)
        def test_app():
            assert_judged(app(), "It is good")
    """)
    result = pytester.runpytest("--junitxml=j.xml", "--llmjudge-html=r.html")
    result.assert_outcomes(passed=1)
    properties = {p.get("name"): p.get("value")
                  for p in ET.parse(pytester.path / "j.xml").iter("property")}
    decision = json.loads(properties["llmjudge_sample"])
    assert (decision["passes"], decision["samples"], decision["failed"]) == (2, 3, [2])
    html = (pytester.path / "r.html").read_text()
    assert "test_app.py::test_app [sample 2]" in html
    assert "<h2>Sampled tests</h2>" in html
    assert "<li>PASS 2/3 (0.21-0.94) vs 0.6 test_app.py::test_app</li>" in html


BASELINE = """
    import os
    import pytest

    app = make_app(os.environ["APP_SCRIPT"].split(","))

    @pytest.mark.llmjudge_sample(n=10, min_pass_rate=0.5)
    def test_app():
        assert_judged(app(), "It is good")
"""


def test_baseline_pass_rates_are_stored_and_drops_tested(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    sampled(pytester, monkeypatch, BASELINE)
    monkeypatch.setenv("APP_SCRIPT", "good")
    result = pytester.runpytest("--llmjudge-update-baselines")
    result.assert_outcomes(passed=1)
    stored = pytester.path / "__llmjudge__/baselines/test_app/test_app.json"
    data = json.loads(stored.read_text())
    # All 10 were taken, though 5 passes already met the bar: a stored rate is whole.
    assert data["pass_rate"] == {"passes": 10, "samples": 10}
    # A failing app's rate is stored whole too: 0 of 3 would have failed it early.
    monkeypatch.setenv("APP_SCRIPT", "bad")
    pytester.runpytest("--llmjudge-update-baselines").assert_outcomes(failed=1)
    assert json.loads(stored.read_text())["pass_rate"] == {"passes": 0, "samples": 10}
    monkeypatch.setenv("APP_SCRIPT", "good")
    pytester.runpytest("--llmjudge-update-baselines").assert_outcomes(passed=1)

    # 6 of 10 against 10 of 10: p = C(16,6) C(4,4) / C(20,10) = 8008/184756 = 0.0433.
    monkeypatch.setenv("APP_SCRIPT", "good,bad,good,good,bad,good,bad,good,bad,good")
    result = pytester.runpytest("--llmjudge-report=r.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "*SampledTestFailure: pass rate 6/10 against 10/10 in the baseline, p = 0.0433: a "
        "significant drop (at 0.05, llmjudge_significance)"])
    assert report(pytester)["test_app"]["sampled"]["p_value"] == pytest.approx(8008 / 184756)

    # 9 of 10 against 10 of 10 is not significant (p = 0.5): a watch item.
    monkeypatch.setenv("APP_SCRIPT", "good,good,good,good,bad,good,good,good,good,good")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*PASS     9/10 (0.60-0.98) vs 0.5; baseline 10/10, -0.10, p = 0.5 WATCH  "
        "test_app.py::test_app"])
    # A stricter level lets 6/10 pass: the drop's p = 0.043 is above 0.01.
    monkeypatch.setenv("APP_SCRIPT", "good,bad,good,good,bad,good,bad,good,bad,good")
    pytester.runpytest("--llmjudge-significance=0.01").assert_outcomes(passed=1)


@pytest.mark.parametrize("pass_rate, why", [
    ('{"passes": 11, "samples": 10}', '"pass_rate" is {\'passes\': 11, \'samples\': 10}'),
    ('{"passes": 3}', "not {\"passes\": k, \"samples\": n}"),
    ('"9/10"', "\"pass_rate\" is '9/10'"),
])
def test_an_edited_pass_rate_is_an_error(pytester: pytest.Pytester,
                                         monkeypatch: pytest.MonkeyPatch, pass_rate: str,
                                         why: str) -> None:
    sampled(pytester, monkeypatch, BASELINE)
    monkeypatch.setenv("APP_SCRIPT", "good")
    stored = pytester.path / "__llmjudge__/baselines/test_app/test_app.json"
    stored.parent.mkdir(parents=True)
    stored.write_text('{"format": "pytest-llmjudge baselines", "version": 1, "test": "x", '
                      f'"baselines": {{}}, "pass_rate": {pass_rate}}}')
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    text = result.stdout.str()
    assert f"baseline file {stored} is not valid: " in text.replace("\n", "")
    assert why in text
    assert "Fix it, or delete it and record the baselines again" in text


def test_bad_significance_is_a_usage_error(pytester: pytest.Pytester,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    sampled(pytester, monkeypatch, BASELINE)
    result = pytester.runpytest("--llmjudge-significance=1.5")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'1.5' is outside (0, 1); use a significance level such "
                                 "as 0.05*"])


DRIFTING = """
    from pytest_llmjudge import assert_judged

    def test_one():
        assert_judged("a good reply", "It is good")

    def test_two():
        assert_judged("a fine reply", "It is good")

    def test_three():
        assert_judged("a fine and good reply", "It is fine")
"""


def test_drift_reports_flips_kappa_and_gates(pytester: pytest.Pytester,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    stub_project(pytester, monkeypatch, test_drifting=DRIFTING)
    pytester.runpytest("--llmjudge-cache-export=j.jsonl").assert_outcomes(passed=2, failed=1)
    lines = (pytester.path / "j.jsonl").read_text().splitlines()
    asked = [json.loads(line)["asked"] for line in lines[1:]]
    votes = [a for a in asked if not a.get("explains")]
    assert sorted(a["output"] for a in votes) == ["a fine and good reply", "a fine reply",
                                                  "a good reply"]
    assert {a["mode"] for a in votes} == {"direct"}
    # The failing verdict's reason was one more call: kept, and marked as a reason.
    assert [a["output"] for a in asked if a.get("explains")] == ["a fine reply"]
    # A new judge that says YES to "fine" instead of "good".
    pytester.makeconftest(stub_conftest("keyword", word="fine"))
    monkeypatch.setenv("STUB_JUDGE", "stub:v2")
    result = pytester.runpytest("--llmjudge-drift=j.jsonl", "--ignore-glob=*", "-rA")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*llmjudge drift on j.jsonl: 3 recorded judgment(s) re-judged by stub:v2 (recorded "
        "by stub:v1)",
        "*agreement 0.333 [[]0.061, 0.792], Cohen's kappa*",
        "*flips: 2 (1 PASS->FAIL, 1 FAIL->PASS); mean score shift +0.000",
        "*PASS->FAIL 0.900 -> 0.200 (threshold 0.5)  test_drifting.py::test_one  'It is good'"
        "  judged: 'a good reply'",
        "*FAIL->PASS 0.200 -> 0.900 (threshold 0.5)  test_drifting.py::test_two*",
    ])
    result = pytester.runpytest("--llmjudge-drift=j.jsonl", "--ignore-glob=*",
                                "--llmjudge-max-flips=1")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*DriftGateError: 2 recorded verdict(s) flipped under the "
                                 "judge configured now, more than --llmjudge-max-flips=1*"])
    pytester.runpytest("--llmjudge-drift=j.jsonl", "--ignore-glob=*",
                       "--llmjudge-max-flips=2").assert_outcomes(passed=1)


def test_drift_with_the_recording_judge_warns_and_still_reports(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    stub_project(pytester, monkeypatch, test_drifting=DRIFTING)
    pytester.runpytest("--llmjudge-cache-export=j.jsonl")
    result = pytester.runpytest("--llmjudge-drift=j.jsonl", "--ignore-glob=*", "-rA")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*warning: the judge and its prompts are the ones that recorded these judgments, so "
        "nothing can drift*",
        "*agreement 1.000*",
        "*flips: 0 (0 PASS->FAIL, 0 FAIL->PASS); mean score shift +0.000",
    ])
    assert "DriftWarning: llmjudge drift: j.jsonl was recorded by the judge configured " \
        "now (stub:v1, same prompts): nothing can drift" in result.stdout.str()
    # Re-judging replayed every call from the cache: the same judge, the same calls.
    assert "stub calls: 0" in result.stdout.str()


def test_drift_files_of_another_kind_are_refused(pytester: pytest.Pytester,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    stub_project(pytester, monkeypatch, test_drifting=DRIFTING)
    (pytester.path / "labels.jsonl").write_text('{"output": "x", "criterion": "y"}\n')
    result = pytester.runpytest("--llmjudge-drift=labels.jsonl")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--llmjudge-drift: labels.jsonl is not a pytest-llmjudge "
                                 "judgments file*"])
    (pytester.path / "v9.jsonl").write_text(
        '{"format": "pytest-llmjudge judgments", "version": 9}\n')
    result = pytester.runpytest("--llmjudge-drift=v9.jsonl")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*v9.jsonl is judgments file version 9*"])
    # A file of the right format whose calls keep no request (an old export).
    pytester.runpytest("--llmjudge-cache-export=j.jsonl")
    lines = (pytester.path / "j.jsonl").read_text().splitlines()
    old = [lines[0]]
    for line in lines[1:]:
        data = json.loads(line)
        del data["asked"]
        old.append(json.dumps(data))
    (pytester.path / "old.jsonl").write_text("\n".join(old) + "\n")
    result = pytester.runpytest("--llmjudge-drift=old.jsonl", "--ignore-glob=*")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*DriftFileError: old.jsonl holds no judgment the drift "
                                 "check can ask again: 4 call(s) keep no request*"])
    # An "asked" request edited into something that cannot be asked.
    broken = [lines[0]]
    for line in lines[1:]:
        data = json.loads(line)
        data["asked"]["threshold"] = "high"  # the reason's line too: it is checked
        broken.append(json.dumps(data))
    (pytester.path / "broken.jsonl").write_text("\n".join(broken) + "\n")
    result = pytester.runpytest("--llmjudge-drift=broken.jsonl", "--ignore-glob=*")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*an \"asked\" request this version cannot ask again "
                                 "(\"threshold\" 'high' is not a number in 0..1)*"])


def test_summary_lists_verdicts_moving_toward_their_threshold(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    stub_project(pytester, monkeypatch, test_app="""
        import os
        from pytest_llmjudge import assert_judged

        def test_app():
            assert_judged(os.environ["APP_REPLY"], "It is good", threshold=0.15)
    """)
    monkeypatch.setenv("APP_REPLY", "a good reply")
    pytester.runpytest("--llmjudge-cache-export=j.jsonl").assert_outcomes(passed=1)
    # The app changed: still a pass at 0.2 against 0.15, but far closer than 0.9 was.
    monkeypatch.setenv("APP_REPLY", "a plain reply")
    result = pytester.runpytest("--llmjudge-cache-import=j.jsonl")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([
        "*moved toward their threshold since the recorded judgment (not flipped yet):",
        "*0.900 -> 0.200 (threshold 0.15)  test_app.py::test_app  'It is good'"])
