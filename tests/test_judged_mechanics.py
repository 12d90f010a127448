"""assert_judged end to end through real pytest runs, on the real 135M model.

The 135M model is a poor judge, so these tests never depend on its opinion: they
use thresholds of 0 and 1 to force a pass or a fail, and check what the run shows.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPLY = "Thanks for writing in! Could you send me your order number so I can look into it?"


def test_pass_and_fail_with_readable_reasons(judged: pytest.Pytester) -> None:
    judged.makepyfile(f"""
        from pytest_llmjudge import assert_judged

        def test_passes():
            verdict = assert_judged({REPLY!r}, "The reply is polite", threshold=0.0)
            assert verdict.passed and 0.0 <= verdict.score <= 1.0

        def test_fails():
            assert_judged({REPLY!r}, "The reply is polite", threshold=1.0)
    """)
    result = judged.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*judged assertion failed: score 0.* < threshold 1.00",
        "*criterion: The reply is polite",
        "*output:",
        "*Thanks for writing in! Could you send me your order number*",
        "*judge answered * (P(YES) = 0.*); reason:",
        "*judge: llamacpp:smollm2-135m@sha256:b179c9523d0e, strategy logprob, prompt "
        "criterion.v1@*+replies.v1@*#direct, *tokens, *s, 2 call(s)",
    ])  # (test_fails asks what test_passes asked: its answer replays from the cache, and
    # the reason, which the far pass did not need, is the one call made)
    assert "from cache" not in result.stdout.str()
    # Plugin frames are hidden: the traceback points at the test's own line only.
    assert "pytest_llmjudge/" not in result.stdout.str()


def test_long_output_is_excerpted(judged: pytest.Pytester) -> None:
    judged.makepyfile("""
        from pytest_llmjudge import assert_judged

        def test_long():
            assert_judged("word " * 400, "The text is short", threshold=1.0)
    """)
    result = judged.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*word ... [[]1700 more characters]"])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ('assert_judged("", "The reply is polite")', "*the output to judge is empty*"),
        ('assert_judged("   \\n", "The reply is polite")', "*the output to judge is empty*"),
        ('assert_judged(None, "The reply is polite")', "*must be a str, got NoneType*"),
        ('assert_judged({"text": "hi"}, "The reply is polite")', "*must be a str, got dict*"),
        ('assert_judged("Hello", "")', "*the criterion must be a non-empty str*"),
        ('assert_judged("Hello", 42)', "*the criterion must be a non-empty str, got 42*"),
        ('assert_judged("Hello", "polite", threshold=1.7)', "*outside the score range*"),
    ],
)
def test_bad_arguments_are_errors_not_verdicts(
    judged: pytest.Pytester, call: str, message: str
) -> None:
    judged.makepyfile(f"""
        from pytest_llmjudge import assert_judged

        def test_bad():
            {call}
    """)
    result = judged.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["E   *JudgeConfigError: *" + message.lstrip("*")])


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("missing/judge.gguf", "*ModelNotFoundError: model file *missing/judge.gguf* does not "
                               "exist*"),
        ("not-a-model.gguf", "*ModelNotFoundError: *not-a-model.gguf* is not a GGUF model file*"),
    ],
)
def test_unusable_model_errors_every_judged_test_and_loads_once(
    judged: pytest.Pytester, model: str, message: str
) -> None:
    (judged.path / "not-a-model.gguf").write_text("definitely not weights")
    judged.makeconftest("""
        import pytest

        CALLS = []

        @pytest.hookimpl(wrapper=True)
        def pytest_llmjudge_make_backend(settings):
            CALLS.append(settings.model)
            return (yield)

        def pytest_terminal_summary(terminalreporter):
            terminalreporter.write_line(f"backend attempts: {len(CALLS)}")
    """)
    judged.makepyfile("""
        from pytest_llmjudge import assert_judged

        def test_one():
            assert_judged("Hello there", "The reply is polite")

        def test_two():
            assert_judged("Hello again", "The reply is polite")

        def test_unjudged():
            pass
    """)
    result = judged.runpytest(f"--llmjudge-model={model}")
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines([message, "backend attempts: 1"])


def test_judge_call_past_its_timeout_is_an_error(judged: pytest.Pytester) -> None:
    judged.makepyfile(f"""
        from pytest_llmjudge import assert_judged

        def test_slow():
            assert_judged({REPLY!r}, "The reply is polite")
    """)
    result = judged.runpytest("--llmjudge-timeout=0.000001")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*JudgeTimeoutError: the judge ran past llmjudge_timeout*"])


def test_prompt_longer_than_the_context_is_an_error_with_token_counts(
    judged: pytest.Pytester,
) -> None:
    judged.makepyfile("""
        from pytest_llmjudge import assert_judged

        def test_huge():
            assert_judged("The refund arrives soon. " * 200, "The reply is polite")
    """)
    result = judged.runpytest("--llmjudge-n-ctx=512")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*ContextOverflowError: the judge prompt needs * tokens plus up to 160 reply tokens, "
        "more than the model's context window of 512*",
    ])


def test_judge_fixture_returns_the_verdict(judged: pytest.Pytester) -> None:
    judged.makepyfile(f"""
        from pytest_llmjudge import Verdict

        def test_fixture(judge):
            verdict = judge.evaluate({REPLY!r}, "The reply is polite", threshold=0.25)
            assert isinstance(verdict, Verdict)
            assert verdict.threshold == 0.25
            assert verdict.passed == (verdict.score >= 0.25)
            assert verdict.answer in ("YES", "NO") and verdict.reasoning
            assert verdict.judge_id == judge.judge_id
            assert verdict.prompt_version.startswith("criterion.v1@")
            assert verdict.prompt_tokens > 50 and verdict.completion_tokens > 0
            assert verdict.latency_s > 0
    """)
    judged.runpytest().assert_outcomes(passed=1)


def test_same_request_gives_the_same_verdict(judged: pytest.Pytester) -> None:
    judged.makepyfile(f"""
        def test_twice(judge):
            first = judge.evaluate({REPLY!r}, "The reply is polite")
            other = judge.evaluate("Go away.", "The reply is polite")
            again = judge.evaluate({REPLY!r}, "The reply is polite")
            assert (first.score, first.reasoning) == (again.score, again.reasoning)
            assert other.score != first.score
    """)
    # Uncached: the same request is judged twice, not replayed.
    judged.runpytest("--llmjudge-record-mode=off").assert_outcomes(passed=1)


def test_report_records_verdicts_and_errors(judged: pytest.Pytester) -> None:
    judged.makepyfile(f"""
        from pytest_llmjudge import assert_judged

        def test_pass():
            assert_judged({REPLY!r}, "The reply is polite", threshold=0.0)

        def test_fail():
            assert_judged({REPLY!r}, "The reply is polite", threshold=1.0)

        def test_error():
            assert_judged("", "The reply is polite")
    """)
    target = judged.path / "reports" / "deep" / "llmjudge.json"  # parent dirs do not exist
    result = judged.runpytest(f"--llmjudge-report={target}")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines([f"llmjudge: report written to {target}",
                                 "judged assertions: 1 passed, 1 failed; 1 judge error(s)"])
    document = json.loads(target.read_text())
    tests = {t["nodeid"].split("::")[1]: t for t in document["tests"]}
    assert document["version"] == 1 and document["settings"]["model"] == "smollm2-135m"
    assert tests["test_pass"]["outcome"] == "passed"
    assert tests["test_fail"]["outcome"] == "failed"
    (verdict,) = tests["test_fail"]["verdicts"]
    assert verdict["threshold"] == 1.0 and not verdict["passed"] and verdict["reasoning"]
    assert tests["test_error"]["outcome"] == "error"
    assert "output to judge is empty" in tests["test_error"]["error"]


def test_report_merges_verdicts_from_xdist_workers(judged: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    judged.makepyfile(**{
        f"test_mod{i}": f"""
            from pytest_llmjudge import assert_judged

            def test_a():
                assert_judged("Hello from {i}", "The text is a greeting", threshold=0.0)

            def test_b():
                assert_judged("Bye from {i}", "The text is a greeting", threshold=0.0)
        """ for i in range(3)
    })
    target = judged.path / "r.json"
    result = judged.runpytest_subprocess("-n", "2", f"--llmjudge-report={target}")
    result.assert_outcomes(passed=6)
    document = json.loads(target.read_text())
    assert len(document["tests"]) == 6
    assert all(len(t["verdicts"]) == 1 for t in document["tests"])
    assert result.stdout.str().count("judged assertions: 6 passed") == 1


def test_disabled_plugin_says_so(judged: pytest.Pytester) -> None:
    judged.makeini("[pytest]\n")
    judged.makepyfile("""
        from pytest_llmjudge import assert_judged

        def test_judged():
            assert_judged("Hello", "The reply is polite")
    """)
    # A subprocess: in-process, the outer test run's judge would answer instead.
    result = judged.runpytest_subprocess("-p", "no:llmjudge")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*NoActiveSessionError*disabled with -p no:llmjudge*"])
    assert "llmjudge:" not in result.stdout.str()


def test_junit_xml_carries_the_verdict(judged: pytest.Pytester, tmp_path: Path) -> None:
    judged.makepyfile(f"""
        from pytest_llmjudge import assert_judged

        def test_pass():
            assert_judged({REPLY!r}, "The reply is polite", threshold=0.0)
    """)
    xml = tmp_path / "junit.xml"
    judged.runpytest(f"--junitxml={xml}").assert_outcomes(passed=1)
    assert 'property name="llmjudge_verdict"' in xml.read_text()
