"""Checklists, claim-level grounding and abstention on the real 135M model, through real
pytest runs: the machinery end to end (prompts, grammars, files). Judging quality is
under test in tests/test_checklist_quality.py, with the 1.5B model."""

from __future__ import annotations

import pytest

REPLY = "Sorry that order #1234 arrived damaged. We will send a replacement today."
ITEMS = ["Mentions the order number", "Offers a refund or a replacement",
         "Does not promise a delivery date"]


def test_each_item_is_judged_with_its_own_reason(judged: pytest.Pytester) -> None:
    judged.makepyfile(f"""
        def test_reply(judge):
            verdict = judge.evaluate_checklist({REPLY!r}, items={ITEMS!r})
            assert [p.criterion for p in verdict.parts] == {ITEMS!r}
            for part in verdict.parts:
                assert part.strategy == "logprob" and part.reasoning.strip()
                assert 0.0 <= part.votes[0].p_yes <= 1.0
                assert part.prompt_version.startswith("checklist.v1@")
            share = sum(p.passed for p in verdict.parts) / 3
            assert verdict.score == share and verdict.passed == (share == 1.0)
    """)
    judged.runpytest().assert_outcomes(passed=1)


def test_a_generated_checklist_is_frozen_and_replayed(judged: pytest.Pytester) -> None:
    # The 135M judge writes poor questions; what is under test is that whatever it
    # writes goes through the grammar, parses, lands in the file and is replayed.
    judged.makepyfile(test_reply=f"""
        def test_reply(judge):
            verdict = judge.evaluate_checklist(
                {REPLY!r}, instruction="Apologise for the damaged order and offer a fix.")
            print("NOTE", verdict.notes[0])
            print("ITEMS", [p.criterion for p in verdict.parts])
    """)
    first = judged.runpytest("-s")
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["*NOTE checklist written by the judge to *"])
    path = judged.path / "__llmjudge__" / "checklists" / "test_reply" / "test_reply.checklist"
    from pytest_llmjudge.storage.checklist_files import read

    stored = read(path)
    assert stored is not None and 1 <= len(stored.items) <= 8
    assert stored.written_by.startswith("llamacpp:smollm2-135m@sha256:")
    second = judged.runpytest("-s", "--llmjudge-record-mode=none")
    second.assert_outcomes(passed=1)
    second.stdout.fnmatch_lines(["*NOTE checklist from *test_reply.checklist",
                                 f"ITEMS {list(stored.items)!r}".replace("[", "[[]")])


def test_the_marker_and_fixture_judge_a_real_reply(judged: pytest.Pytester) -> None:
    judged.makepyfile(f"""
        import pytest

        @pytest.mark.llmjudge_checklist(*{ITEMS!r}, threshold=0.3)
        def test_reply(judge_checklist):
            judge_checklist({REPLY!r})
    """)
    result = judged.runpytest("--llmjudge-report=report.json")
    import json

    (verdict,) = json.loads((judged.path / "report.json").read_text())["tests"][0]["verdicts"]
    assert [p["criterion"] for p in verdict["parts"]] == ITEMS
    # The 135M model's answer to each item cannot be pinned. What can: the score is the
    # share of items that passed, and the test's outcome is the verdict's.
    passed = sum(p["passed"] and not p["unstable"] for p in verdict["parts"])
    assert verdict["score"] == pytest.approx(passed / 3)
    assert verdict["passed"] == (passed / 3 >= 0.3)
    if verdict["passed"]:
        result.assert_outcomes(passed=1)
    else:
        result.assert_outcomes(failed=1)
        result.stdout.fnmatch_lines([f"E   *checklist: {passed} of 3 items passed; failed*"])


def test_claims_and_abstention_run_end_to_end(judged: pytest.Pytester) -> None:
    judged.makepyfile("""
        from pytest_llmjudge import assert_abstains, assert_grounded
        from pytest_llmjudge import JudgeAssertionError

        CONTEXT = "The museum opens at 9am. Entry is free on Sundays."

        def test_claims():
            try:
                verdict = assert_grounded("It opens at 9am. Entry is free on Sundays.",
                                          context=CONTEXT)
            except JudgeAssertionError as failure:
                verdict = failure.verdict
            assert [p.output for p in verdict.parts] == [
                "It opens at 9am.", "Entry is free on Sundays."]
            assert all(p.prompt_version.startswith("claim.v1@") for p in verdict.parts)
            assert verdict.score == min(p.score for p in verdict.parts)

        def test_abstention():
            try:
                verdict = assert_abstains("I don't know.", question="When does it close?",
                                          context=CONTEXT)
            except JudgeAssertionError as failure:
                verdict = failure.verdict
            assert verdict.prompt_version.startswith("abstention.v1@")
    """)
    judged.runpytest().assert_outcomes(passed=2)


@pytest.mark.parametrize(("call", "message"), [
    ("assert_abstains(\"I don't know.\", question='')",
     "assert_abstains(): question must be a non-empty str, got ''"),
    ("assert_not_abstains('At 9am.', question='When?', context=3)",
     "assert_not_abstains(): context must be a non-empty str, got 3; leave it out*"),
    ("assert_abstains(None, question='When?')", "the output to judge must be a str, got*"),
])
def test_bad_abstention_arguments_are_errors(judged: pytest.Pytester, call: str,
                                             message: str) -> None:
    judged.makepyfile(f"""
        from pytest_llmjudge import assert_abstains, assert_not_abstains

        def test_answer():
            {call}
    """)
    result = judged.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"E   *{message}"])
