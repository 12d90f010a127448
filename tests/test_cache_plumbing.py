"""The judge cache, record modes, export and import, budgets and dry runs, around a stub
backend plugged in through the public hook (real sqlite, real pytest runs).

The stub proves plumbing only: tests/test_cache_judge.py replays a real model's and a
real server's judgments.
"""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from stubs import TESTS, stub_project

from pytest_llmjudge.backends.base import Completion, CompletionRequest
from pytest_llmjudge.judging.reply_formats import reply_spec
from pytest_llmjudge.storage.cache import CACHE_FILE, JudgeCache, call_key, open_cache


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    return stub_project(pytester, monkeypatch,
                        test_replies=TESTS.format(criterion="The reply is good"))


def _cache(project: pytest.Pytester) -> Path:
    return project.path / ".llmjudge" / CACHE_FILE


def test_a_second_run_replays_every_call(project: pytest.Pytester) -> None:
    first = project.runpytest("--llmjudge-report=r.json")
    first.assert_outcomes(passed=1, failed=1)
    # test_good's answer; test_bad's answer, and its reason (it failed).
    first.stdout.fnmatch_lines(["stub calls: 3",
                                "judge calls: 3 made, 0 replayed from the cache;*"])
    second = project.runpytest("--llmjudge-report=r.json")
    second.assert_outcomes(passed=1, failed=1)
    second.stdout.fnmatch_lines(["*judge: stub:v1, strategy logprob, *from cache*",
                                 "stub calls: 0",
                                 "judge calls: 0 made, 3 replayed from the cache;*"])
    report = json.loads((project.path / "r.json").read_text())
    assert all(v["cached"] for t in report["tests"] for v in t["verdicts"])
    assert report["totals"]["replayed"] == 3 and report["totals"]["calls"] == 0


def test_a_new_judge_model_is_never_served_an_old_grade(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project.runpytest().assert_outcomes(passed=1, failed=1)
    monkeypatch.setenv("STUB_JUDGE", "stub:v2")
    result = project.runpytest()
    result.stdout.fnmatch_lines(["stub calls: 3", "judge calls: 3 made, 0 replayed*"])


def test_record_mode_none_names_the_nearest_key_and_what_differed(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
) -> None:
    project.runpytest().assert_outcomes(passed=1, failed=1)
    project.makepyfile(test_replies=TESTS.format(criterion="The reply is kind"))
    result = project.runpytest("--llmjudge-record-mode=none")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines([
        "E   *CacheMissError: record mode none: no recorded judgment for this judge call of "
        "test_replies.py::test_good (key *). Nearest recorded key * (recorded by "
        "test_replies.py::test_good) differs in the criterion or instructions (same template "
        "and judged text). To record it with --llmjudge-record-mode=new_episodes*",
        "stub calls: 0"])
    monkeypatch.setenv("STUB_JUDGE", "stub:v2")
    project.makepyfile(test_replies=TESTS.format(criterion="The reply is good"))
    result = project.runpytest("--llmjudge-record-mode=none")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        ["E   *differs in the judge model (recorded stub:v1, now stub:v2)*"])


def test_record_mode_once_records_new_tests_and_refuses_new_calls_of_old_ones(
    project: pytest.Pytester,
) -> None:
    project.runpytest("--llmjudge-record-mode=once").assert_outcomes(passed=1, failed=1)
    project.makepyfile(test_replies=TESTS.format(criterion="The reply is good") + """
    def test_new():
        assert_judged("another good reply", "The reply is good")
        assert_judged("one more good reply", "The reply is good")

    def test_good_again():
        assert_judged("a good reply", "The reply is good")
        assert_judged("a good reply, changed", "The reply is good")
    """)
    result = project.runpytest("--llmjudge-record-mode=once")
    result.assert_outcomes(passed=3, failed=1)
    # New tests record: test_new both its calls, test_good_again the one call that
    # test_good did not already record (keys are the calls, not the tests).
    result.stdout.fnmatch_lines(["stub calls: 3"])
    project.makepyfile(test_replies=TESTS.format(criterion="The reply is good") + """
    def test_new():
        assert_judged("another good reply", "The reply is good")
        assert_judged("a third good reply", "The reply is good")
    """)
    result = project.runpytest("--llmjudge-record-mode=once")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(["E   *record mode once: test_replies.py::test_new already has "
                                 "recorded judgments, and this judge call (key *) is not one "
                                 "of them*--llmjudge-record-mode=all*"])


def test_record_mode_all_remakes_and_off_keeps_no_cache(project: pytest.Pytester) -> None:
    project.runpytest().assert_outcomes(passed=1, failed=1)
    again = project.runpytest("--llmjudge-record-mode=all")
    again.stdout.fnmatch_lines(["stub calls: 3", "judge calls: 3 made, 0 replayed*"])
    for path in (project.path / ".llmjudge").iterdir():
        path.unlink()
    (project.path / ".llmjudge").rmdir()
    result = project.runpytest("--llmjudge-record-mode=off")
    result.stdout.fnmatch_lines(["stub calls: 3", "judge calls: 3 made, 0 replayed*"])
    assert not (project.path / ".llmjudge").exists()


def test_exported_judgments_replay_offline_in_record_mode_none(
    project: pytest.Pytester,
) -> None:
    target = project.path / "recorded" / "judgments.jsonl"  # the directory does not exist
    first = project.runpytest(f"--llmjudge-cache-export={target}")
    first.stdout.fnmatch_lines([f"llmjudge: 3 judgment(s) exported to {target}: 3 from this "
                                "run (3 new, 0 re-recorded)"])
    lines = target.read_text().splitlines()
    assert json.loads(lines[0]) == {"format": "pytest-llmjudge judgments", "version": 1}
    entries = [json.loads(line) for line in lines[1:]]
    assert [e["test"] for e in entries] == ["test_replies.py::test_bad"] * 2 + [
        "test_replies.py::test_good"]
    # The failure's answer, and the reason written for it, are both recorded; the pass
    # has its answer only.
    replies = sorted(json.loads(e["reply"]["text"]) == {"answer": "NO"} for e in entries[:2])
    assert replies == [False, True]
    assert any(json.loads(e["reply"]["text"]).get("reason") == "stub says"
               for e in entries[:2])
    assert json.loads(entries[2]["reply"]["text"]) == {"answer": "YES"}
    assert entries[2]["judged"] == ['a good reply'] and entries[2]["judge"] == "stub:v1"
    assert entries[2]["reply"]["choice_probs"]["answer"]["YES"] == 0.9
    # A fresh clone: no cache, only the committed file.
    for path in (project.path / ".llmjudge").iterdir():
        path.unlink()
    result = project.runpytest(f"--llmjudge-cache-import={target}",
                               "--llmjudge-record-mode=none")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["stub calls: 0", "judge calls: 0 made, 3 replayed*"])


@pytest.mark.parametrize(("content", "message"), [
    ('{"format": "pytest-llmjudge judgments", "version": 7}\n',
     "*judgments.jsonl is judgments file version 7; this version of pytest-llmjudge reads "
     "version 1. Re-record and export it*"),
    ('{"hello": 1}\n', "*judgments.jsonl is not a pytest-llmjudge judgments file*"),
    ('{"format": "pytest-llmjudge judgments", "version": 1}\n{"key": "x"}\n',
     "*judgments.jsonl:2: not a judgment line (* is a required property); re-export*"),
])
def test_a_bad_judgments_file_stops_the_run_before_any_test(
    project: pytest.Pytester, content: str, message: str,
) -> None:
    (project.path / "judgments.jsonl").write_text(content)
    result = project.runpytest("--llmjudge-cache-import=judgments.jsonl")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: pytest-llmjudge: --llmjudge-cache-import: {message}"])


def test_an_edited_judgment_line_is_refused(project: pytest.Pytester) -> None:
    target = project.path / "j.jsonl"
    project.runpytest(f"--llmjudge-cache-export={target}")
    lines = target.read_text().splitlines()
    lines[1] = lines[1].replace('"stub:v1"', '"stub:v9"')
    target.write_text("\n".join(lines) + "\n")
    result = project.runpytest(f"--llmjudge-cache-import={target}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*j.jsonl:2: the key does not match the line's parts*"])


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_corrupt_cache_file_is_moved_aside_and_the_run_goes_on(
    project: pytest.Pytester, damage: str,
) -> None:
    project.runpytest().assert_outcomes(passed=1, failed=1)
    path = _cache(project)
    if damage == "garbage":
        path.write_bytes(b"this is not a database" * 200)
    else:
        # Fold the log in first, so the cut lands in the file's real pages.
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    result = project.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "stub calls: 3",
        "warning: the judge cache *judgments.sqlite3 was not a usable database (*); moved it "
        "to judgments.sqlite3.corrupt-* and started an empty cache"])
    assert list(path.parent.glob("judgments.sqlite3.corrupt-*"))
    # The fresh file works: the next run replays.
    project.runpytest().stdout.fnmatch_lines(["stub calls: 0"])


@pytest.fixture
def read_only(project: pytest.Pytester) -> Iterator[Path]:
    """The cache directory made read-only. The suite runs as root, which ignores file
    modes, so the directory is made immutable instead (chattr +i)."""
    directory = project.path / ".llmjudge"
    directory.mkdir()
    made = subprocess.run(["chattr", "+i", str(directory)], capture_output=True, text=True)
    assert made.returncode == 0, f"chattr +i failed: {made.stderr}"
    yield directory
    subprocess.run(["chattr", "-i", str(directory)], check=True)


def test_a_read_only_cache_directory_warns_and_runs_uncached(
    project: pytest.Pytester, read_only: Path,
) -> None:
    result = project.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "stub calls: 3",
        "warning: the judge cache directory *.llmjudge cannot be written (*); this run keeps "
        "its judgments in memory only, and saves none*"])
    assert list(read_only.iterdir()) == []


def _write_keys(path: str, worker: int, count: int) -> None:
    """One process writing: a key every process writes, then keys of its own."""
    opened = open_cache(Path(path))
    assert opened.cache is not None, opened.notes
    spec = reply_spec("direct", None)
    for i in range(count):
        shared = CompletionRequest(messages=(), reply=spec, untrusted=("shared",), seed=i)
        own = CompletionRequest(messages=(), reply=spec, untrusted=(f"w{worker}",), seed=i)
        reply = Completion(json.dumps({"answer": "YES", "reason": f"worker {worker}"}))
        opened.cache.put(call_key("stub", "p", shared, 0), f"w{worker}", reply)
        opened.cache.put(call_key("stub", "p", own, 0), f"w{worker}", reply)
    opened.cache.close()


def test_workers_writing_the_same_keys_at_once_lose_nothing(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_keys, args=(str(tmp_path), w, 150))
               for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    opened = open_cache(tmp_path)
    assert opened.notes == () and opened.cache is not None
    entries = list(opened.cache.entries())
    # 150 shared keys (one row each, whoever wrote last) + 4 x 150 own keys.
    assert len(entries) == 150 + 4 * 150
    assert all(json.loads(e.completion.text)["answer"] == "YES" for e in entries)


def test_the_cache_in_memory_replays_within_a_run() -> None:
    cache = JudgeCache.in_memory()
    request = CompletionRequest(messages=(), reply=reply_spec("direct", None), untrusted=("x",))
    key = call_key("stub", "p", request, 0)
    assert cache.get(key) is None
    cache.put(key, "t", Completion('{"answer": "YES", "reason": "r"}', {"answer": {"YES": 1.0}}))
    hit = cache.get(key)
    assert hit is not None and hit.choice_probs == {"answer": {"YES": 1.0}}
    other = call_key("stub", "p2", request, 0)
    assert other.digest != key.digest
    assert key.differences(other) == ["the prompt template (recorded p, now p2)"]
