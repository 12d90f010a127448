"""Checklists around a keyword backend plugged in through the public hook: markers,
the fixture, the helper, weights, the failure table, frozen generated checklists and
every bad input. The stub proves plumbing only; tests/test_checklist_judge.py runs
checklists on real models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ASYNCIO_INI
from stub_backend import stub_conftest

ITEMS = ["Mentions the order number", "Offers a refund or a replacement",
         "Does not promise a delivery date"]


def _project(pytester: pytest.Pytester, test: str, passing: list[str] | None = None,
             written: list[str] | None = None, delay: float = 0.0) -> None:
    pytester.makeini(f"[pytest]\n{ASYNCIO_INI}")
    pytester.makeconftest(stub_conftest(
        "checklist", passing=passing if passing is not None else ITEMS[:2],
        written=written if written is not None else ITEMS, delay=delay))
    pytester.makepyfile(test_reply=test)


MARKED = """
    import pytest

    @pytest.mark.llmjudge_checklist({items}{extra})
    def test_reply(judge_checklist):
        judge_checklist("Sorry about order #1234: we will refund you.")
"""


def _marked(extra: str = "") -> str:
    return MARKED.format(items=", ".join(repr(i) for i in ITEMS), extra=extra)


def test_a_failing_item_fails_the_checklist_with_a_table(pytester: pytest.Pytester) -> None:
    _project(pytester, _marked())
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        "E   *checklist: 2 of 3 items passed; failed: pass rate 0.667 < threshold 1.00",
        "E *  items:",
        "E *  1. PASS     P(YES)=0.90    Mentions the order number",
        # A passing item's reason is not written (llmjudge_reasons=failures), and the
        # table says so; the failing item's is.
        "E *       reason: reason not generated: passed at 0.90, threshold 0.50*",
        "E *  3. FAIL     P(YES)=0.20    Does not promise a delivery date",
        "E *       reason: stub says NO to Does not promise a delivery date",
        "stub calls: 4",
    ])
    every = pytester.runpytest("--llmjudge-reasons=all", "--llmjudge-record-mode=off")
    every.stdout.fnmatch_lines([
        "E *       reason: stub says YES to Mentions the order number",
        "E *       reason: stub says NO to Does not promise a delivery date",
        "stub calls: 6",
    ])


def test_a_lower_pass_rate_passes(pytester: pytest.Pytester) -> None:
    _project(pytester, _marked(", threshold=0.6"))
    pytester.runpytest().assert_outcomes(passed=1)


def test_weights_count_items_unequally(pytester: pytest.Pytester) -> None:
    # The failing item weighs 1 of 5: the weighted pass rate is 0.8.
    _project(pytester, _marked(", weights=[2, 2, 1], threshold=0.8"))
    pytester.runpytest().assert_outcomes(passed=1)
    _project(pytester, _marked(", weights=[1, 1, 2], threshold=0.8"))
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["E   *pass rate (weighted) 0.500 < threshold 0.80",
                                 "E *  3. FAIL     P(YES)=0.20    weight 2 Does not*"])


def test_the_helper_judges_items_concurrently_where_the_backend_allows(
    pytester: pytest.Pytester,
) -> None:
    items = [f"Item number {i}" for i in range(6)]
    _project(pytester, f"""
        from pytest_llmjudge import assert_checklist

        def test_reply():
            verdict = assert_checklist("A reply", items={items!r})
            assert [p.criterion for p in verdict.parts] == {items!r}
    """, passing=items, delay=0.2)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["stub calls: 6", "stub lists written: 0, most in flight: 4"])
    # Uncached, or the second run would replay the first run's calls.
    result = pytester.runpytest("--llmjudge-concurrency=1", "--llmjudge-record-mode=off")
    result.stdout.fnmatch_lines(["stub calls: 6", "stub lists written: 0, most in flight: 1"])


def test_the_report_carries_the_checklist_and_its_items(pytester: pytest.Pytester) -> None:
    _project(pytester, _marked())
    pytester.runpytest("--llmjudge-report=out/report.json")
    report = json.loads((pytester.path / "out" / "report.json").read_text())
    (verdict,) = report["tests"][0]["verdicts"]
    assert verdict["part_kind"] == "item" and verdict["outcome"] == "FAIL"
    assert [p["criterion"] for p in verdict["parts"]] == ITEMS
    assert [p["outcome"] for p in verdict["parts"]] == ["PASS", "PASS", "FAIL"]


@pytest.mark.parametrize(("marker", "message"), [
    ("@pytest.mark.llmjudge_checklist()",
     "the checklist is empty; list the items*"),
    ("@pytest.mark.llmjudge_checklist('Polite', 'polite')",
     "checklist item 2 repeats item 1 ('polite'); a repeat would count twice*"),
    ("@pytest.mark.llmjudge_checklist('Polite', 3)",
     "checklist item 2 is a int (3); every item must be a str*"),
    ("@pytest.mark.llmjudge_checklist('Polite', treshold=1)",
     "unknown keyword(s) treshold*"),
    ("@pytest.mark.llmjudge_checklist('Polite', threshold=0)",
     "threshold=0 would pass a reply that fails every item*"),
    ("@pytest.mark.llmjudge_checklist('Polite', 'Short', weights=[1])",
     "weights must be a list of 2 numbers, one per item, got ?1?"),
])
def test_a_bad_marker_errors_at_setup_naming_the_test(pytester: pytest.Pytester, marker: str,
                                                      message: str) -> None:
    _project(pytester, f"""
        import pytest

        {marker}
        def test_reply(judge_checklist):
            judge_checklist("A reply")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*ERROR at setup of test_reply*",
                                 f"JudgeConfigError: @pytest.mark.llmjudge_checklist on "
                                 f"test_reply.py::test_reply: {message}"])
    result.stdout.fnmatch_lines(["stub calls: 0"])


def test_a_marker_without_the_fixture_errors_at_setup(pytester: pytest.Pytester) -> None:
    _project(pytester, """
        import pytest

        @pytest.mark.llmjudge_checklist("Polite")
        def test_reply():
            assert "reply"
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "JudgeConfigError: test_reply.py::test_reply is marked "
        "@pytest.mark.llmjudge_checklist but does not request the judge_checklist fixture*"])


def test_a_fixture_never_called_errors_at_teardown(pytester: pytest.Pytester) -> None:
    _project(pytester, """
        import pytest

        @pytest.mark.llmjudge_checklist("Polite")
        def test_reply(judge_checklist):
            assert "reply"
    """)
    result = pytester.runpytest("--llmjudge-report=report.json")
    # Recorded in the JSON report like any judge error.
    (test,) = json.loads((pytester.path / "report.json").read_text())["tests"]
    assert test["outcome"] == "error" and "never calls it" in test["error"]
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_reply*",
                                 "JudgeConfigError: test_reply.py::test_reply requests "
                                 "judge_checklist but never calls it*"])


def test_the_fixture_without_a_marker_errors(pytester: pytest.Pytester) -> None:
    _project(pytester, """
        def test_reply(judge_checklist):
            judge_checklist("A reply")
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["E   *uses judge_checklist but has no "
                                 "@pytest.mark.llmjudge_checklist(...)*"])


@pytest.mark.parametrize(("call", "message"), [
    ("assert_checklist('A reply', items=[])", "*the checklist is empty*"),
    ("assert_checklist('A reply', items='Polite')",
     "*the checklist is one string ('Polite'); give a list of items, e.g. items=?'Polite'?"),
    ("assert_checklist('A reply', items=['Polite', None])",
     "*checklist item 2 is a NoneType (None)*"),
    ("assert_checklist('A reply', items=['Polite', ' polite  '])",
     "*checklist item 2 repeats item 1*"),
    ("assert_checklist('A reply', items=['Polite', '  '])", "*checklist item 2 is empty"),
    ("assert_checklist('A reply')", "*give the checklist, items=?...?, or instruction=...*"),
    ("assert_checklist('', items=['Polite'])", "*the output to judge is empty*"),
    ("assert_checklist('A reply', items=['Polite'], name='x')", "*name= names a generated*"),
    ("assert_checklist('A reply', items=['Polite'], weights=[0])",
     "*weight 1 is 0; weights must be positive numbers"),
])
def test_bad_helper_arguments_error_before_any_call(pytester: pytest.Pytester, call: str,
                                                    message: str) -> None:
    _project(pytester, f"""
        from pytest_llmjudge import assert_checklist

        def test_reply():
            {call}
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"E   {message}", "stub calls: 0"])


GENERATED = """
    from pytest_llmjudge import assert_checklist

    def test_reply():
        verdict = assert_checklist("Sorry about order #1234: we will refund you.",
                                   instruction={instruction!r}, threshold=0.6)
        print("NOTES", verdict.notes)
"""
INSTRUCTION = "Reply to the customer whose order #1234 arrived damaged."


def _checklist_file(pytester: pytest.Pytester) -> Path:
    return pytester.path / "__llmjudge__" / "checklists" / "test_reply" / "test_reply.checklist"


def test_a_generated_checklist_is_written_once_and_reused(pytester: pytest.Pytester) -> None:
    _project(pytester, GENERATED.format(instruction=INSTRUCTION))
    first = pytester.runpytest("-s")
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["*checklist written by the judge to *test_reply.checklist; review "
                                "it and commit it*",
                                # The list, three items, and the failing item's reason.
                                "stub calls: 5", "stub lists written: 1, *"])
    text = _checklist_file(pytester).read_text()
    assert text.startswith("# pytest-llmjudge checklist v1\n")
    assert f"instruction: {json.dumps(INSTRUCTION)}\n" in text
    assert text.endswith("".join(f"- {item}\n" for item in ITEMS))
    # A reviewer's edit is what the next run judges against, with no list written.
    _checklist_file(pytester).write_text(text.replace(ITEMS[2], "Says sorry"))
    # (The judge cache replays the two unchanged items; only the edited one is judged.)
    second = pytester.runpytest("-s")
    second.assert_outcomes(passed=1)
    # The edited item fails under the stub: its answer, and its reason.
    second.stdout.fnmatch_lines(["*checklist from *test_reply.checklist*",
                                 "stub calls: 2", "stub lists written: 0, *"])
    # The flag has the judge write it again, whatever the record mode: in mode none,
    # from the judge's recorded reply (same judge, same prompt, same list).
    third = pytester.runpytest("--llmjudge-record-mode=none", "--llmjudge-update-checklists")
    third.assert_outcomes(passed=1)
    third.stdout.fnmatch_lines(["stub calls: 0", "stub lists written: 0, *",
                                "judge calls: 0 made, 5 replayed from the cache*"])
    assert "Says sorry" not in _checklist_file(pytester).read_text()


def test_a_missing_file_in_record_mode_none_is_an_error(pytester: pytest.Pytester) -> None:
    _project(pytester, GENERATED.format(instruction=INSTRUCTION))
    result = pytester.runpytest("--llmjudge-record-mode=none")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "E   *there is no checklist file *test_reply.checklist for test_reply.py::test_reply, and "
        "record mode 'none' does not let the judge write one. Run once with "
        "--llmjudge-update-checklists*", "stub calls: 0"])
    assert not _checklist_file(pytester).exists()


def test_a_changed_instruction_is_rewritten_or_refused_by_record_mode(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, GENERATED.format(instruction=INSTRUCTION))
    pytester.runpytest().assert_outcomes(passed=1)
    _project(pytester, GENERATED.format(instruction=INSTRUCTION + " Be brief."))
    refused = pytester.runpytest("--llmjudge-record-mode=once")
    refused.assert_outcomes(errors=1)
    refused.stdout.fnmatch_lines(["E   *the checklist file was written for a different "
                                  "instruction*"])
    pytester.runpytest().assert_outcomes(passed=1)  # new_episodes, the default
    assert "Be brief." in _checklist_file(pytester).read_text()


def test_record_mode_off_writes_no_file(pytester: pytest.Pytester) -> None:
    _project(pytester, GENERATED.format(instruction=INSTRUCTION))
    result = pytester.runpytest("-s", "--llmjudge-record-mode=off")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*for this run only (record mode off)*"])
    assert not _checklist_file(pytester).exists()


@pytest.mark.parametrize(("content", "message"), [
    ("- Polite\n", "*line 1: the first line must be '# pytest-llmjudge checklist v1'*"),
    ("# pytest-llmjudge checklist v1\ninstruction: Reply\n- Polite\n",
     "*line 2: the instruction is not a JSON string*"),
    ('# pytest-llmjudge checklist v1\ninstruction: "Reply"\n',
     "*line 2: no items ('- ...' lines)*"),
    ('# pytest-llmjudge checklist v1\ninstruction: "Reply"\n- Polite\nPolite again\n',
     "*line 4: unrecognised line 'Polite again'*"),
    ('# pytest-llmjudge checklist v1\ninstruction: "Reply"\n- Polite\n- polite\n',
     "*checklist item 2 repeats item 1*"),
    (b"# pytest-llmjudge checklist v1\n\xff\xfe", "*cannot read checklist file*"),
])
def test_a_corrupt_checklist_file_is_an_error_naming_the_line(
    pytester: pytest.Pytester, content: str | bytes, message: str,
) -> None:
    _project(pytester, GENERATED.format(instruction="Reply"))
    path = _checklist_file(pytester)
    path.parent.mkdir(parents=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"E   *{message}", "stub calls: 0"])


@pytest.mark.parametrize(("written", "message"), [
    # An empty list fails the reply schema; blank items pass it and are dropped after.
    ([], "*list of checklist items does not fit the schema ([[]] should be non-empty)*"),
    (["  ", "\n"], "*the judge wrote zero checklist items*nothing could be checked*"),
])
def test_a_generated_checklist_with_zero_items_is_an_error(
    pytester: pytest.Pytester, written: list[str], message: str,
) -> None:
    _project(pytester, GENERATED.format(instruction=INSTRUCTION), written=written)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"E   {message}(after 3 attempts with stub:keyword)*"])
    assert not _checklist_file(pytester).exists()


def test_two_generated_checklists_in_one_test_need_names(pytester: pytest.Pytester) -> None:
    _project(pytester, """
        from pytest_llmjudge import assert_checklist

        def test_reply():
            assert_checklist("A reply", instruction="Be polite", threshold=0.5)
            assert_checklist("A reply", instruction="Be brief", threshold=0.5)
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["E   *two generated checklists with different instructions "
                                 "in test_reply.py::test_reply would share *; give each one "
                                 "a name=*"])
    _project(pytester, """
        from pytest_llmjudge import assert_checklist

        def test_reply():
            assert_checklist("A reply", instruction="Be polite", threshold=0.5, name="polite")
            assert_checklist("A reply", instruction="Be brief", threshold=0.5, name="brief")
    """)
    pytester.runpytest().assert_outcomes(passed=1)
    folder = _checklist_file(pytester).parent
    # (test_reply.checklist is the first run's, written before its second call failed.)
    assert sorted(p.name for p in folder.iterdir()) == [
        "test_reply.brief.checklist", "test_reply.checklist", "test_reply.polite.checklist"]


def test_a_bad_output_errors_before_the_judge_writes_a_checklist(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, """
        from pytest_llmjudge import assert_checklist

        def test_reply():
            assert_checklist("  ", instruction="Be polite", threshold=0.5)
    """)
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["E   *the output to judge is empty*", "stub calls: 0"])
    assert not _checklist_file(pytester).exists()
