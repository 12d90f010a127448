"""The judge cache with real judges: the 135M model in-process, and llama-cpp-python's
OpenAI-compatible server on 127.0.0.1. Recorded verdicts replay exactly, offline, and
no credential reaches the cache or its export."""

from __future__ import annotations

import json

import pytest
from servers import JudgeServer, free_port

TESTS = """
    from pytest_llmjudge import assert_judged

    def test_polite(judge):
        verdict = judge.evaluate("Thank you! Could you share your order number?",
                                 "The reply is polite")
        print("VERDICT", verdict.score, verdict.reasoning, verdict.cached)

    def test_polled():
        assert_judged("Go away.", "The reply is polite", strategy="chainpoll", polls=3,
                      threshold=0.0)
"""
LOADED = """
    from pytest_llmjudge.session import session_key

    def pytest_sessionfinish(session):
        backend = session.config.stash[session_key].judge.backend
        print("MODEL LOADED:", backend.loaded)
"""


def _verdict_line(result: pytest.RunResult) -> str:
    line = next(line for line in result.stdout.lines if "VERDICT " in line)
    return line[line.index("VERDICT "):]


def _same_verdict(recorded: pytest.RunResult, replayed: pytest.RunResult) -> bool:
    """The same score and reason, judged first, then replayed from the cache."""
    before, cached_before = _verdict_line(recorded).rsplit(" ", 1)
    after, cached_after = _verdict_line(replayed).rsplit(" ", 1)
    return before == after and (cached_before, cached_after) == ("False", "True")


def test_a_real_models_verdicts_replay_exactly_without_loading_it(
    judged: pytest.Pytester,
) -> None:
    judged.makepyfile(TESTS)
    judged.makeconftest(LOADED)
    export = judged.path / "judgments.jsonl"
    first = judged.runpytest("-s", f"--llmjudge-cache-export={export}")
    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(["*judge calls: 4 made, 0 replayed from the cache*"])
    assert "MODEL LOADED: True" in first.stdout.str()
    # A fresh checkout: only the exported file, and record mode none.
    for path in (judged.path / ".llmjudge").iterdir():
        path.unlink()
    second = judged.runpytest("-s", f"--llmjudge-cache-import={export}",
                              "--llmjudge-record-mode=none")
    second.assert_outcomes(passed=2)
    second.stdout.fnmatch_lines(["*judge calls: 0 made, 4 replayed from the cache*"])
    assert "MODEL LOADED: False" in second.stdout.str()
    assert _same_verdict(first, second)
    lines = [json.loads(line) for line in export.read_text().splitlines()[1:]]
    assert {line["judge"] for line in lines} == {"llamacpp:smollm2-135m@sha256:b179c9523d0e"}
    assert sorted(line["poll"] for line in lines) == [0, 0, 1, 2]


def test_a_remote_judges_replay_needs_no_server_and_keeps_no_key(
    remote: pytest.Pytester, judge_server: JudgeServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "sk-test-f00dcafe-not-for-caching"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    remote.makepyfile(TESTS)
    export = remote.path / "judgments.jsonl"
    first = remote.runpytest("-s", f"--llmjudge-api-base={judge_server.url}",
                             f"--llmjudge-cache-export={export}")
    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(["*judge calls: 4 made, 0 replayed from the cache*"])
    # Nowhere in the cache, its log, or the export.
    stored = [p for p in (remote.path / ".llmjudge").iterdir() if p.is_file()] + [export]
    assert all(secret.encode() not in path.read_bytes() for path in stored)
    assert all(b"sk-test" not in path.read_bytes() for path in stored)
    # The server is gone (nothing listens on this port): the run replays all the same.
    dead = f"http://127.0.0.1:{free_port()}/v1"
    second = remote.runpytest("-s", f"--llmjudge-api-base={dead}",
                              "--llmjudge-record-mode=none")
    second.assert_outcomes(passed=2)
    second.stdout.fnmatch_lines(["*judge calls: 0 made, 4 replayed from the cache*"])
    assert _same_verdict(first, second)


def test_another_model_never_replays_the_old_models_grades(judged: pytest.Pytester) -> None:
    judged.makepyfile(TESTS)
    judged.runpytest().assert_outcomes(passed=2)
    # The 1.5B model is never loaded: the miss is found before any call is made.
    other = judged.runpytest("--llmjudge-model=qwen2.5-coder-1.5b",
                             "--llmjudge-record-mode=none")
    other.assert_outcomes(errors=2)
    other.stdout.fnmatch_lines([
        "*CacheMissError: record mode none: no recorded judgment for this judge call of "
        "test_another_model_never_replays_the_old_models_grades.py::test_polite*differs in "
        "the judge model (recorded llamacpp:smollm2-135m@sha256:b179c9523d0e, now "
        "llamacpp:qwen2.5-coder-1.5b@sha256:*)*"])
