"""Judge panels: members, aggregation, quorum and the errors, through a real pytest run.

The stub proves the plumbing; one test runs a panel of role prompts on the real 135M
model. Whether a panel judges better is measured in benchmarks, not here."""

from __future__ import annotations

import json
import textwrap

import pytest
from stub_backend import stub_conftest
from stubs import stub_project

from pytest_llmjudge.errors import JudgeConfigError
from pytest_llmjudge.judging.roles import Member, parse_aggregate, parse_panel

TESTS = """
    from pytest_llmjudge import assert_judged

    def test_good():
        assert_judged("a good reply", "The reply is good")
"""
BROKEN = textwrap.dedent("""
    from pytest_llmjudge.errors import JudgeTimeoutError

    class Broken:
        judge_id = "broken:v1"
        model_name = "broken"
        supports_logprobs = True

        def complete(self, request):
            raise JudgeTimeoutError("no complete reply within 1.0 s")

        def close(self):
            pass

    def pytest_llmjudge_make_backend(settings):
        return Broken() if settings.model == "broken" else BACKEND
""")


def test_members_parse_as_model_role_or_both() -> None:
    assert parse_panel("a.gguf, b@strict ,@lenient") == (
        Member("a.gguf", ""), Member("b", "strict"), Member("", "lenient"))
    assert parse_panel("") == ()


@pytest.mark.parametrize(("raw", "message"), [
    ("@strict", "names one member; a panel needs at least two"),
    ("@strict,@rude", "unknown role 'rude'; roles: strict, lenient, expert"),
    ("@strict,@strict", "names a member twice"),
])
def test_a_bad_panel_is_refused(raw: str, message: str) -> None:
    with pytest.raises(JudgeConfigError, match=message):
        parse_panel(raw)


def test_an_unknown_aggregation_is_refused() -> None:
    with pytest.raises(JudgeConfigError, match="'median' is not a way to combine a panel; "
                       "use mean, majority or learned"):
        parse_aggregate("median")


def _report(project: pytest.Pytester) -> dict[str, object]:
    (verdict,) = [v for t in json.loads((project.path / "r.json").read_text())["tests"]
                  for v in t["verdicts"]]
    return verdict  # type: ignore[no-any-return]


def test_a_panel_of_roles_shows_every_member_and_their_agreement(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = stub_project(pytester, monkeypatch, test_app=TESTS.replace(
        "The reply is good\")", "The reply is good\", threshold=0.95)"))
    result = project.runpytest("--llmjudge-panel=@strict,@lenient,@expert",
                               "--llmjudge-report=r.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E   *judge panel: 0 of 3 members passed it; failed: panel score 0.900 < threshold "
        "0.95",
        "E *members:", "E *1. FAIL     P(YES)=0.90    (the session model) as strict",
        "E *panel (mean of 3 members): (the session model) as strict 0.900, (the session*",
        "E *3 of 3 agree with the verdict"])
    verdict = _report(project)
    parts = verdict["parts"]
    assert isinstance(parts, list) and len(parts) == 3
    # Each role is its own prompt: the cache, thresholds and heads key it apart.
    assert [p["prompt_version"].rsplit("+", 1)[1] for p in parts] == [
        "role.strict", "role.lenient", "role.expert"]
    # Each member's answer, and its reason (each member failed the threshold too).
    assert "stub calls: 6" in result.stdout.str()
    again = project.runpytest("--llmjudge-panel=@strict,@lenient,@expert",
                              "--llmjudge-record-mode=none")
    again.assert_outcomes(failed=1)  # every member's call replays from the cache


def test_majority_counts_members_that_passed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = stub_project(pytester, monkeypatch, test_app=TESTS)
    result = project.runpytest("--llmjudge-panel=@strict,@lenient",
                               "--llmjudge-panel-aggregate=majority",
                               "--llmjudge-report=r.json")
    result.assert_outcomes(passed=1)
    assert _report(project)["score"] == 1.0


def test_a_failing_member_errors_the_verdict_and_is_named(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = stub_project(pytester, monkeypatch, test_app=TESTS)
    project.makeconftest(stub_conftest("keyword") + textwrap.indent(BROKEN, "    "))
    result = project.runpytest("--llmjudge-panel=@strict,broken")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "*JudgeError: panel member(s) could not judge, and llmjudge_panel_quorum=2 needs 2 "
        "of 2: broken: JudgeTimeoutError: no complete reply within 1.0 s*"])
    allowed = project.runpytest("--llmjudge-panel=@strict,broken",
                                "--llmjudge-panel-quorum=1", "--llmjudge-report=r.json")
    allowed.assert_outcomes(passed=1)
    notes = _report(project)["notes"]
    assert isinstance(notes, list) and any(
        "member missing, allowed by llmjudge_panel_quorum: broken: JudgeTimeoutError" in n
        for n in notes)


@pytest.mark.parametrize(("option", "message"), [
    ("--llmjudge-panel-aggregate=median", "'median' is not a way to combine a panel"),
    ("--llmjudge-panel=@strict,@rude", "unknown role 'rude'"),
    ("--llmjudge-panel-quorum=0", "at least 1 member must judge"),
])
def test_a_bad_panel_option_stops_the_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, option: str, message: str,
) -> None:
    project = stub_project(pytester, monkeypatch, test_app=TESTS)
    result = project.runpytest(option)
    assert result.ret != 0
    assert message in result.stderr.str() + result.stdout.str()


def test_a_quorum_above_the_panel_is_an_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project = stub_project(pytester, monkeypatch, test_app=TESTS)
    result = project.runpytest("--llmjudge-panel=@strict,@lenient",
                               "--llmjudge-panel-quorum=3")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*llmjudge_panel_quorum=3 is outside 1..2 (the panel's "
                                 "members)*"])


def test_a_panel_of_role_prompts_judges_with_a_real_model(judged: pytest.Pytester) -> None:
    judged.makepyfile(test_app="""
        def test_panel(judge):
            verdict = judge.evaluate("Thank you for your patience!", "The reply is polite")
            assert verdict.part_kind == "member" and len(verdict.parts) == 2
            scores = [p.score for p in verdict.parts]
            assert verdict.score == sum(scores) / 2
            # The role is in the prompt the model read: the two members' P(YES) differ.
            assert scores[0] != scores[1]
    """)
    result = judged.runpytest("--llmjudge-panel=@strict,@lenient")
    result.assert_outcomes(passed=1)
