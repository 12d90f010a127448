"""The session report (terminal, JSON, JUnit), pytest-xdist totals, the verdict hook,
budgets and dry runs, around the stub judge of stubs.py (plumbing only; the HTML page
is tested in Chromium by tests/test_html_report.py)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from stubs import CACHE_STUB, TESTS, stub_project

MANY = """
    from pytest_llmjudge import assert_judged

    def test_{i}_a():
        assert_judged("good reply {i}a", "The reply is good")

    def test_{i}_b():
        assert_judged("good reply {i}b", "The reply is good")
"""


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    return stub_project(pytester, monkeypatch,
                        test_replies=TESTS.format(criterion="The reply is good"))


def test_the_summary_follows_quiet_and_verbose(project: pytest.Pytester) -> None:
    project.makepyfile(test_errors="""
        from pytest_llmjudge import assert_judged

        def test_empty():
            assert_judged("", "The reply is good")
    """)
    default = project.runpytest("--llmjudge-record-mode=off").stdout.str()
    assert "judged assertions: 1 passed, 1 failed; 1 judge error(s)" in default
    assert "judge calls: 3 made, 0 replayed from the cache; 72 tokens," in default
    assert "slowest judged tests:" in default and "borderline verdicts" in default
    assert "ERROR test_errors.py::test_empty: " not in default
    quiet = project.runpytest("-q", "--llmjudge-record-mode=off").stdout.str()
    assert "judged assertions: 1 passed" in quiet and "judge calls: 3 made" in quiet
    assert "slowest judged tests:" not in quiet and "borderline" not in quiet
    verbose = project.runpytest("-v", "--llmjudge-record-mode=off").stdout.str()
    assert ("ERROR test_errors.py::test_empty: JudgeConfigError: the output to judge is empty"
            in verbose)
    silent = project.runpytest("-qq", "--llmjudge-record-mode=off").stdout.str()
    assert "judged assertions" not in silent


def test_junit_xml_has_each_verdicts_score_and_votes(project: pytest.Pytester) -> None:
    xml = project.path / "out" / "junit.xml"
    project.runpytest(f"--junitxml={xml}").assert_outcomes(passed=1, failed=1)
    cases = {case.get("name"): case for case in ET.parse(xml).iter("testcase")}
    props = {name: {p.get("name"): p.get("value") for p in case.iter("property")}
             for name, case in cases.items()}
    assert props["test_good"]["llmjudge_score"] == "0.900 against threshold 0.5: PASS"
    assert props["test_bad"]["llmjudge_score"] == "0.200 against threshold 0.5: FAIL"
    assert props["test_good"]["llmjudge_votes"] == "P(YES) 0.900"
    assert json.loads(props["test_bad"]["llmjudge_verdict"])["reasoning"] == "stub says"


def test_other_plugins_receive_every_verdict(project: pytest.Pytester) -> None:
    project.makeconftest(CACHE_STUB + """
    SEEN = []

    def pytest_llmjudge_verdict(item, verdict):
        SEEN.append((item.name, verdict.outcome, round(verdict.score, 1)))

    def pytest_sessionfinish():
        print("seen:", sorted(SEEN))
    """)
    result = project.runpytest("-s")
    assert "seen: [('test_bad', 'FAIL', 0.2), ('test_good', 'PASS', 0.9)]" in result.stdout.str()


def test_xdist_workers_share_the_cache_and_the_controller_prints_merged_totals(
    project: pytest.Pytester,
) -> None:
    pytest.importorskip("xdist")
    project.makepyfile(**{f"test_many{i}": MANY.format(i=i) for i in range(4)})
    first = project.runpytest_subprocess("-n", "2", "--llmjudge-report=r.json")
    first.assert_outcomes(passed=9, failed=1)
    out = first.stdout.str()
    assert out.count("judge calls: 11 made, 0 replayed from the cache; 264 tokens") == 1
    assert out.count("judged assertions: 9 passed, 1 failed") == 1
    second = project.runpytest_subprocess("-n", "2", "--llmjudge-report=r.json")
    assert second.stdout.str().count("judge calls: 0 made, 11 replayed from the cache") == 1
    report = json.loads((project.path / "r.json").read_text())
    assert report["totals"]["replayed"] == 11 and len(report["tests"]) == 10


def test_a_spent_call_budget_errors_the_assertions_past_it(project: pytest.Pytester) -> None:
    project.makepyfile(**{f"test_many{i}": MANY.format(i=i) for i in range(2)})
    result = project.runpytest("-p", "no:randomly", "--llmjudge-max-calls=3",
                               "--llmjudge-report=r.json")
    # test_many0 a and b, test_many1 a are judged; test_many1 b and test_replies are not.
    result.assert_outcomes(passed=3, errors=3)
    result.stdout.fnmatch_lines([
        "E   *BudgetSpentError: the judge budget is spent: 3 of --llmjudge-max-calls=3 judge "
        "calls made this run; this judged assertion needed another and was not graded.*",
        "budget: 3 of 3 calls spent; 3 judge call(s) refused"])
    report = json.loads((project.path / "r.json").read_text())
    assert report["budget"] == {"max_calls": 3, "max_cost_usd": None, "calls": 3,
                                "cost_usd": 0.0}
    # Replays are free: the three recorded calls replay, and three more are made.
    again = project.runpytest("-p", "no:randomly", "--llmjudge-max-calls=3")
    again.assert_outcomes(passed=5, failed=1)
    again.stdout.fnmatch_lines(["judge calls: 3 made, 3 replayed*"])


def test_the_call_budget_holds_across_xdist_workers(project: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    project.makepyfile(**{f"test_many{i}": MANY.format(i=i) for i in range(4)})
    result = project.runpytest_subprocess("-n", "2", "--llmjudge-max-calls=4")
    outcomes = result.parseoutcomes()
    assert outcomes["errors"] == 6 and outcomes.get("passed", 0) + outcomes.get("failed", 0) == 4
    assert result.stdout.str().count("budget: 4 of 4 calls spent; 6 judge call(s) "
                                     "refused") == 1


def test_a_cost_cap_stops_a_priced_judge(project: pytest.Pytester,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUB_COST", "0.01")
    project.makepyfile(**{f"test_many{i}": MANY.format(i=i) for i in range(2)})
    result = project.runpytest("-p", "no:randomly", "--llmjudge-max-cost=0.025")
    # The cap is checked before each call: the third starts at $0.02 and is allowed.
    result.assert_outcomes(passed=3, errors=3)
    result.stdout.fnmatch_lines([
        "E   *the judge budget is spent: $0.0300 of --llmjudge-max-cost=0.025 used by 3 "
        "calls to stub:v1 this run*",
        "judge calls: 3 made, 0 replayed from the cache; 72 tokens, $0.0300,*",
        "budget: $0.0300 of $0.025 spent; 3 judge call(s) refused"])


def test_a_cost_cap_on_an_unpriced_judge_warns(project: pytest.Pytester) -> None:
    result = project.runpytest("--llmjudge-max-cost=1")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["warning: --llmjudge-max-cost is set, but stub:v1 reports no "
                                 "price for its calls, so the cost cap cannot hold*"])


def test_a_dry_run_counts_calls_makes_none_and_replays_what_it_can(
    project: pytest.Pytester,
) -> None:
    project.runpytest().assert_outcomes(passed=1, failed=1)  # records test_good, test_bad
    project.makepyfile(test_more="""
        from pytest_llmjudge import assert_judged, assert_checklist

        def test_polled():
            assert_judged("a bad reply, polled", "The reply is good", strategy="chainpoll")

        def test_generated():
            assert_checklist("a reply", instruction="Write a good reply")
    """)
    result = project.runpytest("-rs", "--llmjudge-dry-run", "--llmjudge-report=r.json")
    # The recorded tests replay for real; the others are counted, not judged.
    result.assert_outcomes(passed=1, failed=1, skipped=2)
    result.stdout.fnmatch_lines([
        "stub calls: 0",
        "judge calls: 0 made, 3 replayed from the cache*",  # test_bad's reason too
        "dry run: 5 judge call(s) counted, none made*",
        # chainpoll's 3 minimum polls; the checklist's list, and its one placeholder item.
        "SKIPPED [1] test_more.py:3: llmjudge dry run: 3 judge call(s) counted, none made",
        "SKIPPED [1] test_more.py:6: llmjudge dry run: 2 judge call(s) counted, none made"])
    assert not (project.path / "__llmjudge__").exists()  # no placeholder checklist written
    report = json.loads((project.path / "r.json").read_text())
    assert report["totals"]["dry_run"] == 5 and report["settings"]["dry_run"] is True


@pytest.mark.parametrize("flag", ["--llmjudge-report", "--llmjudge-html",
                                  "--llmjudge-cache-export"])
def test_report_paths_in_missing_directories_are_created(project: pytest.Pytester,
                                                         flag: str) -> None:
    target = project.path / "a" / "b" / "out.file"
    project.runpytest(f"{flag}={target}").assert_outcomes(passed=1, failed=1)
    assert target.stat().st_size > 100


def test_a_report_path_that_cannot_be_made_warns_and_keeps_the_outcome(
    project: pytest.Pytester,
) -> None:
    (project.path / "taken").write_text("a file, not a directory")
    result = project.runpytest("--llmjudge-html=taken/report.html")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*llmjudge: could not write HTML report taken/report.html:*"])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_bad_budget_values_are_usage_errors(project: pytest.Pytester) -> None:
    for flag, message in (("--llmjudge-max-calls=-1", "'-1' is below 0"),
                          ("--llmjudge-max-cost=lots", "'lots' is not an amount in US dollars")):
        result = project.runpytest(flag)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"*{message}*"])


def test_the_html_page_holds_every_verdict_escaped(project: pytest.Pytester) -> None:
    project.makepyfile(test_markup="""
        from pytest_llmjudge import assert_judged

        def test_markup():
            assert_judged("<script>alert('good')</script>", "The reply is good")
    """)
    page = project.path / "report.html"
    project.runpytest(f"--llmjudge-html={page}").assert_outcomes(passed=2, failed=1)
    text = page.read_text()
    assert text.count('<tbody class="verdict"') == 3
    assert "<script>alert(" not in text and "&lt;script&gt;alert(" in text
    assert "http://" not in text and "https://" not in text


def _paths(project: pytest.Pytester) -> list[Path]:
    return sorted(project.path.rglob("*"))
