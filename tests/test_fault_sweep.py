"""Defects 4, 6 and 8 of the new-user fault sweep (issue 15), and the rough edges it
settled, each through a real pytest run: outputs no encoding can write, unbounded
numeric settings, parametrized tests sharing a file, a damaged cache row, report
paths that are links or cannot be written, and answers too long to split."""

from __future__ import annotations

import json
import sqlite3

import pytest
from stubs import TESTS, stub_project

from pytest_llmjudge.storage.cache import CACHE_FILE


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    return stub_project(pytester, monkeypatch,
                        test_replies=TESTS.format(criterion="The reply is good"))


# -- defect 4: a lone surrogate is an ERROR, counted and reported like any judge error --

def test_a_lone_surrogate_in_an_output_is_an_error_naming_its_position(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_odd='''
        from pytest_llmjudge import assert_judged

        def test_surrogate():
            assert_judged("Thanks \\ud800 a lot", "The reply is good")

        def test_surrogate_in_context():
            from pytest_llmjudge import assert_grounded
            assert_grounded("a good reply", context="bad \\udc80 bytes")
    ''')
    report = project.path / "r.json"
    result = project.runpytest(f"--llmjudge-report={report}")
    result.assert_outcomes(passed=1, failed=1, errors=2)
    result.stdout.fnmatch_lines([
        "E   *JudgeConfigError: the output to judge holds a lone surrogate U+D800 at index 7 "
        "(after 'Thanks '), which no encoding can write*",
        "E   *JudgeConfigError: the context holds a lone surrogate U+DC80 at index 4*",
        "judged assertions: 1 passed, 1 failed; 2 judge error(s)"])
    tests = {t["nodeid"]: t for t in json.loads(report.read_text())["tests"]}
    assert tests["test_odd.py::test_surrogate"]["outcome"] == "error"
    assert "lone surrogate" in tests["test_odd.py::test_surrogate"]["error"]


def test_a_lone_surrogate_in_a_labels_file_names_the_line(project: pytest.Pytester) -> None:
    labels = project.path / "labels.jsonl"
    labels.write_text('{"kind": "judged", "output": "good", "criteria": "The reply is good", '
                      '"label": 1}\n{"kind": "judged", "output": "Thanks \\ud800", '
                      '"criteria": "The reply is good", "label": 1}\n')
    result = project.runpytest(f"--llmjudge-calibrate={labels}", "-p", "no:randomly")
    result.stdout.fnmatch_lines(["*labels.jsonl:2: output holds a lone surrogate U+D800 at "
                                 "index 7*"])
    assert "pluggy/_" not in result.stdout.str()  # no traceback through the hook machinery


@pytest.mark.parametrize("output", ["\x00\x00\x00", "\u200b\u200b", "\ufeff \u2060\n"])
def test_an_output_of_invisible_characters_is_empty(
    project: pytest.Pytester, output: str,
) -> None:
    project.makepyfile(test_blank=f'''
        from pytest_llmjudge import assert_judged

        def test_blank():
            assert_judged({output!r}, "The reply is good")
    ''')
    result = project.runpytest("test_blank.py")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["E   *JudgeConfigError: the output to judge is empty (nothing "
                                 "but whitespace, control or zero-width characters*"])


# -- defect 6: numeric settings with bounds, checked before anything loads ----------

@pytest.mark.parametrize(("option", "message"), [
    ("--llmjudge-n-threads=99999999999999999999",
     "*'99999999999999999999' is above *; this machine has * CPUs; use 'auto', or at most 4 "
     "threads per CPU*"),
    ("--llmjudge-n-ctx=99999999999999999999",
     "*'99999999999999999999' is above 1048576; no judge model needs a larger window*"),
])
def test_absurd_numeric_settings_are_usage_errors(
    project: pytest.Pytester, option: str, message: str,
) -> None:
    result = project.runpytest(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


# -- defect 8: parametrized tests never share a baseline or checklist file -----------

BASELINES = """
    import pytest

    @pytest.mark.parametrize("q", ["a b", "a-b", "a/b"])
    def test_answer(q, baseline):
        assert baseline("answer", f"answer to {q}") == f"answer to {q}"
"""


def test_parametrized_baselines_do_not_collide(project: pytest.Pytester) -> None:
    project.makepyfile(test_params=BASELINES)
    project.runpytest("test_params.py", "--llmjudge-update-baselines").assert_outcomes(passed=3)
    files = sorted((project.path / "__llmjudge__" / "baselines" / "test_params").iterdir())
    assert len(files) == 3
    assert len({json.loads(f.read_text())["test"] for f in files}) == 3
    # The rerun compares each test with its own output, so each passes.
    project.runpytest("test_params.py").assert_outcomes(passed=3)


def test_a_baseline_in_the_old_layout_is_moved_for_its_own_test(
    project: pytest.Pytester,
) -> None:
    project.makepyfile(test_params="""
        import pytest

        @pytest.mark.parametrize("q", ["a b", "a-b"])
        def test_answer(q, baseline):
            assert baseline("answer") == "old answer"
    """)
    old = project.path / "__llmjudge__" / "baselines" / "test_params" / "test_answer-a-b.json"
    old.parent.mkdir(parents=True)
    old.write_text(json.dumps({"format": "pytest-llmjudge baselines", "version": 1,
                               "test": "test_params.py::test_answer[a-b]",
                               "baselines": {"answer": "old answer"}}))
    result = project.runpytest("test_params.py")
    # The file was test_answer[a-b]'s: moved to its new name. test_answer[a b] has none.
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*no baseline 'answer' recorded for "
                                 "test_params.py::test_answer[[]a b[]]*"])
    assert not old.exists()
    assert len(list(old.parent.glob("test_answer-a-b~*.json"))) == 2 - 1


def test_parametrized_generated_checklists_do_not_collide(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stub_backend import stub_conftest

    stub_project(pytester, monkeypatch, test_lists="""
        import pytest
        from pytest_llmjudge import assert_checklist

        @pytest.mark.parametrize("topic", ["a b", "a-b"])
        def test_list(topic):
            try:
                assert_checklist("a good reply", instruction=f"Answer about {topic}")
            except AssertionError:
                pass  # the stub's verdict does not matter here: the file does
    """)
    pytester.makeconftest(stub_conftest("checklist"))
    pytester.runpytest("test_lists.py").assert_outcomes(passed=2)
    files = list((pytester.path / "__llmjudge__" / "checklists" / "test_lists").iterdir())
    assert len(files) == 2
    assert {f.read_text().splitlines()[4] for f in files} == {
        'instruction: "Answer about a b"', 'instruction: "Answer about a-b"'}


# -- rough edges -----------------------------------------------------------------------

def test_a_cached_reply_cut_short_is_a_warning_and_judged_again(
    project: pytest.Pytester,
) -> None:
    project.runpytest().assert_outcomes(passed=1, failed=1)
    with sqlite3.connect(project.path / ".llmjudge" / CACHE_FILE) as db:
        db.execute("UPDATE judgments SET reply = substr(reply, 1, 20) "
                   "WHERE test LIKE '%test_good'")
    result = project.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*CacheWarning: llmjudge: the judge cache * is damaged: the "
                                 "stored reply for key * cannot be read*; judging the call "
                                 "again and recording over it",
                                 "stub calls: 1"])
    again = project.runpytest()  # recorded over: replays cleanly
    again.stdout.fnmatch_lines(["stub calls: 0"])
    assert "damaged" not in again.stdout.str()


def test_a_report_path_that_is_a_symlink_is_written_through(project: pytest.Pytester) -> None:
    target = project.path / "artefacts" / "real.json"
    target.parent.mkdir()
    link = project.path / "report.json"
    link.symlink_to(target)
    project.runpytest(f"--llmjudge-report={link}").assert_outcomes(passed=1, failed=1)
    assert link.is_symlink()
    assert json.loads(target.read_text())["tests"]


def test_an_unwritable_report_fails_an_otherwise_green_run(project: pytest.Pytester) -> None:
    blocker = project.path / "blocker"
    blocker.write_text("a file, not a directory")
    result = project.runpytest("-k", "good", f"--llmjudge-report={blocker}/r.json")
    result.assert_outcomes(passed=1, deselected=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["llmjudge: could not write report *blocker/r.json: * (the run "
                                 "fails for it)"])


def test_an_answer_of_thousands_of_sentences_is_refused_not_split(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from stub_backend import stub_conftest

    stub_project(pytester, monkeypatch, test_long="""
        from pytest_llmjudge import assert_grounded

        def test_long():
            answer = " ".join(f"Sentence number {n} is here." for n in range(8000))
            assert_grounded(answer, context="Some context.")
    """)
    pytester.makeconftest(stub_conftest("claims"))
    result = pytester.runpytest("test_long.py")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*JudgeConfigError: the answer splits into 8000 sentences, "
                                 "more than the 64 claims*claims='off'*", "stub calls: 0"])


def test_a_context_window_beyond_the_models_training_is_refused_before_it_loads(
    judged: pytest.Pytester,
) -> None:
    """10**20 tokens once grew the process to 23 GB; a window past what the model was
    trained on is refused from its metadata, before llama.cpp allocates anything."""
    judged.makepyfile(TESTS.format(criterion="The reply is good"))
    result = judged.runpytest("--llmjudge-n-ctx=1000000")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*JudgeConfigError: llmjudge_n_ctx 1000000 is more than "
                                 "*.gguf was trained on (8192 tokens); set llmjudge_n_ctx to "
                                 "8192 or less*"])
