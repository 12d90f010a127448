"""Defect 1 of the fault sweep (issue 15): an export never shrinks behind the user's
back. A run that stops early, a collection error or a ``-k`` selection keep the file's
other judgments; only --llmjudge-cache-export-prune drops any, and only stale ones."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from stubs import stub_project

THREE = """
    from pytest_llmjudge import assert_judged

    def test_one():
        assert_judged("a good reply", "The reply is good")

    def test_two():
        assert_judged("another good reply", "The reply is good")

    def test_three():
        assert_judged("a third good reply", "The reply is good")
"""


def _tests_in(path: Path) -> list[str]:
    lines = path.read_text().splitlines()
    return sorted(json.loads(line)["test"] for line in lines[1:])


ALL = ["test_three.py::test_one", "test_three.py::test_three", "test_three.py::test_two"]


@pytest.fixture
def exported(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> Path:
    stub_project(pytester, monkeypatch, test_three=THREE)
    target = pytester.path / "committed.jsonl"
    pytester.runpytest(f"--llmjudge-cache-export={target}").assert_outcomes(passed=3)
    assert _tests_in(target) == ALL
    return target


def test_a_collection_error_keeps_the_committed_judgments(
    pytester: pytest.Pytester, exported: Path,
) -> None:
    pytester.makepyfile(test_broken="def test_broken(:\n    pass\n")
    result = pytester.runpytest(f"--llmjudge-cache-export={exported}")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert _tests_in(exported) == ALL
    result.stdout.fnmatch_lines([f"llmjudge: 3 judgment(s) exported to {exported}: 0 from "
                                 "this run (0 new, 0 re-recorded); 3 kept from the file, not "
                                 "used this run (--llmjudge-cache-export-prune drops*"])


def test_a_selection_keeps_the_tests_it_did_not_run(
    pytester: pytest.Pytester, exported: Path,
) -> None:
    result = pytester.runpytest("-k", "one", f"--llmjudge-cache-export={exported}",
                                "--llmjudge-cache-export-prune")
    result.assert_outcomes(passed=1, deselected=2)
    assert _tests_in(exported) == ALL
    result.stdout.fnmatch_lines(["*: 1 from this run (0 new, 0 re-recorded); 2 kept from the "
                                 "file, not used this run"])


def test_a_run_stopped_early_keeps_the_rest(pytester: pytest.Pytester, exported: Path) -> None:
    pytester.makepyfile(test_three=THREE.replace(
        'def test_two():', 'def test_two():\n        raise KeyboardInterrupt\n'))
    # In a subprocess: in-process, the interrupt would stop this test too.
    result = pytester.runpytest_subprocess(f"--llmjudge-cache-export={exported}")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert _tests_in(exported) == ALL


def test_prune_drops_what_a_passed_test_no_longer_uses_and_deleted_tests(
    pytester: pytest.Pytester, exported: Path,
) -> None:
    # test_one now judges another text (its old judgment is stale); test_three is gone.
    pytester.makepyfile(test_three=THREE.replace("a good reply", "a good new reply").split(
        "    def test_three")[0])
    kept = pytester.runpytest(f"--llmjudge-cache-export={exported}")
    kept.assert_outcomes(passed=2)
    assert len(exported.read_text().splitlines()) == 1 + 4  # nothing dropped unasked
    pruned = pytester.runpytest(f"--llmjudge-cache-export={exported}",
                                "--llmjudge-cache-export-prune")
    pruned.assert_outcomes(passed=2)
    pruned.stdout.fnmatch_lines(["*: 2 from this run (0 new, 0 re-recorded); 2 stale pruned"])
    assert _tests_in(exported) == ["test_three.py::test_one", "test_three.py::test_two"]
    assert "a good new reply" in exported.read_text()


def test_prune_after_a_selection_keeps_the_unselected_tests(
    pytester: pytest.Pytester, exported: Path,
) -> None:
    pytester.makepyfile(test_three=THREE.split("    def test_three")[0])  # deleted
    pytester.runpytest("-k", "one or two", f"--llmjudge-cache-export={exported}",
                       "--llmjudge-cache-export-prune").assert_outcomes(passed=2)
    # The run did not see the whole suite, so it cannot know test_three is gone.
    assert _tests_in(exported) == ALL


def test_an_unreadable_export_is_left_alone_and_fails_the_run(
    pytester: pytest.Pytester, exported: Path,
) -> None:
    exported.write_text("my notes, not judgments\n")
    result = pytester.runpytest(f"--llmjudge-cache-export={exported}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["llmjudge: could not write judgments export *committed.jsonl"
                                 "*is not a pytest-llmjudge judgments file*; the file was left "
                                 "as it was*(the run fails for it)"])
    assert exported.read_text() == "my notes, not judgments\n"


@pytest.mark.parametrize("option", ["--llmjudge-cache-import", "--llmjudge-cache-export"])
def test_record_mode_off_refuses_an_import_or_export(
    pytester: pytest.Pytester, exported: Path, option: str,
) -> None:
    result = pytester.runpytest(f"{option}={exported}", "--llmjudge-record-mode=off")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: pytest-llmjudge: {option}=* needs the judge cache, "
                                 "and --llmjudge-record-mode=off turns it off*"])


# Defect 3: an imported line with bad probabilities crashed pytest (INTERNALERROR) or
# replayed a score outside [0, 1]. Each is now a usage error naming the file and line.
@pytest.mark.parametrize(("probs", "why"), [
    ({"answer": {"YES": "abc", "NO": 0.5}}, "*reply/choice_probs/answer/YES: 'abc' is not of "
                                            "type 'number'*"),
    ({"answer": 0.3}, "*reply/choice_probs/answer: 0.3 is not of type 'object'*"),
    ({"answer": {"YES": 7.0, "NO": 0.0}}, "*reply/choice_probs/answer/YES: 7.0 is greater "
                                          "than the maximum of 1*"),
    ({"answer": {"YES": -0.1, "NO": 1.0}}, "*YES: -0.1 is less than the minimum of 0*"),
    ("NaN", "*NaN is not a number JSON allows*"),
])
def test_an_imported_line_with_bad_probabilities_names_the_file_and_line(
    pytester: pytest.Pytester, exported: Path, probs: object, why: str,
) -> None:
    lines = exported.read_text().splitlines()
    line = json.loads(lines[2])
    line["reply"]["choice_probs"] = {"answer": {"YES": 0.5, "NO": 0.5}} if probs == "NaN" \
        else probs
    text = json.dumps(line)
    if probs == "NaN":
        text = text.replace('"YES": 0.5', '"YES": NaN')
    lines[2] = text
    exported.write_text("\n".join(lines) + "\n")
    result = pytester.runpytest(f"--llmjudge-cache-import={exported}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: pytest-llmjudge: --llmjudge-cache-import: "
                                 f"{exported}:3: not a judgment line ({why}"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_two_lines_for_one_call_with_different_replies_are_refused(
    pytester: pytest.Pytester, exported: Path,
) -> None:
    lines = exported.read_text().splitlines()
    other = json.loads(lines[1])
    other["reply"]["choice_probs"]["answer"] = {"YES": 0.1, "NO": 0.9}
    exported.write_text("\n".join([*lines, json.dumps(other)]) + "\n")
    result = pytester.runpytest(f"--llmjudge-cache-import={exported}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{exported}:5: the same judge call as line 2 (key *) with "
                                 "another reply (a merge kept both versions)*"])
    # The same line twice (a merge that kept both copies) is one judgment.
    exported.write_text("\n".join([*lines, lines[1]]) + "\n")
    pytester.runpytest(f"--llmjudge-cache-import={exported}").assert_outcomes(passed=3)


def test_an_import_says_how_many_judgments_it_changed(
    pytester: pytest.Pytester, exported: Path,
) -> None:
    lines = exported.read_text().splitlines()
    edited = json.loads(lines[1])
    edited["reply"]["choice_probs"]["answer"] = {"YES": 0.3, "NO": 0.7}
    exported.write_text("\n".join([lines[0], json.dumps(edited), *lines[2:]]) + "\n")
    result = pytester.runpytest(f"--llmjudge-cache-import={exported}")
    result.stdout.fnmatch_lines(["*--llmjudge-cache-import *committed.jsonl: 1 of 3 "
                                 "judgment(s) hold a different reply than the cache held*"])


def test_a_byte_order_mark_is_accepted(pytester: pytest.Pytester, exported: Path) -> None:
    exported.write_bytes(b"\xef\xbb\xbf" + exported.read_bytes())
    shutil.rmtree(pytester.path / ".llmjudge")  # replayed from the file alone
    result = pytester.runpytest(f"--llmjudge-cache-import={exported}",
                                "--llmjudge-record-mode=none")
    result.assert_outcomes(passed=3)
