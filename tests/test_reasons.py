"""Reasons on demand, on the real 135M model: the verdict is read from the answer
alone, and the judge writes a reason only where ``llmjudge_reasons`` wants one,
continuing the same sequence from the model's KV cache.

The 135M model's opinion is never what is tested: thresholds are set around the score
it gave, to force a far pass, a near pass or a failure.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from pytest_llmjudge.backends.llamacpp import EVAL_CHUNK, SHORTEST_BATCH
from pytest_llmjudge.config.settings import Settings
from pytest_llmjudge.judging.judge import Judge
from pytest_llmjudge.judging.policy import REASON_MARGIN, Policy
from pytest_llmjudge.judging.requests import make_request
from pytest_llmjudge.judging.verdict import JudgeRequest
from pytest_llmjudge.storage.cache import JudgeCache
from pytest_llmjudge.storage.record_modes import CacheWarning, Replayer

pytestmark = pytest.mark.mechanics
REPLY = "Thanks for writing in! Could you send me your order number so I can look into it?"
MODEL = "smollm2-135m"


@pytest.fixture(scope="module")
def backend() -> Iterator[object]:
    from pytest_llmjudge.backends import create_backend

    loaded = create_backend(Settings(model=MODEL).backend_config())
    yield loaded
    loaded.close()


def judge_with(backend: object, mode: str = "off",
               cache: JudgeCache | None = None) -> Judge:
    settings = Settings(model=MODEL, record_mode=mode)
    replayer = Replayer(settings, open_cache=lambda: cache, test=lambda: "test_reasons")
    return Judge(backend, settings, replayer)  # type: ignore[arg-type]


def request(threshold: float, reasons: str = "failures") -> JudgeRequest:
    return make_request(REPLY, "The reply is polite", threshold,
                        policy=Policy(strategy="logprob", reasons=reasons))


def score(backend: object) -> float:
    return judge_with(backend).evaluate(request(0.5, reasons="none")).score


def test_a_far_pass_has_no_reason_and_a_failure_continues_the_same_sequence(
    backend: object,
) -> None:
    judge = judge_with(backend)
    p_yes = score(backend)
    far = judge.evaluate(request(max(p_yes - REASON_MARGIN - 0.05, 0.0)))
    assert far.passed and not far.reasoned and far.completion_tokens < 10
    assert far.reasoning.startswith(f"reason not generated: passed at {p_yes:.2f}")
    assert "(llmjudge_reasons=failures)" in far.reasoning
    totals = judge.replayer.totals
    calls, prompt, reused = totals.calls, totals.prompt_tokens, totals.reused_prompt_tokens
    failed = judge.evaluate(request(min(p_yes + 0.05, 1.0)))
    assert not failed.passed and failed.reasoned and failed.reasoning
    assert not failed.reasoning.startswith("reason not generated")
    # The same answer call, then the reason: P(YES) is the one the far pass had, and
    # the reply that carries the reason was held to the same answer.
    assert failed.score == pytest.approx(p_yes, abs=1e-6)
    assert failed.votes[0].answer == far.votes[0].answer
    assert totals.calls == calls + 2
    # Both calls found their prompt in the KV cache (the answer call's left by the far
    # pass, the reason call's by the answer call), all but the last chunk of it.
    explained = totals.prompt_tokens - prompt - far.prompt_tokens
    assert explained == far.prompt_tokens
    assert totals.reused_prompt_tokens - reused >= 2 * (
        far.prompt_tokens - EVAL_CHUNK - SHORTEST_BATCH)


def test_a_pass_near_its_threshold_is_explained_and_all_or_none_override(
    backend: object,
) -> None:
    judge = judge_with(backend)
    p_yes = score(backend)
    near = judge.evaluate(request(max(p_yes - REASON_MARGIN / 2, 0.0)))
    assert near.passed and near.reasoned and near.reasoning
    every = judge.evaluate(request(0.0, reasons="all"))
    assert every.passed and every.reasoned and every.reasoning
    never = judge.evaluate(request(1.0, reasons="none"))
    assert not never.passed and not never.reasoned
    assert never.reasoning == (f"reason not generated: failed at {p_yes:.2f}, threshold "
                               "1.00 (llmjudge_reasons=none)")


def test_a_replayed_verdict_that_now_needs_a_reason_gets_one_recorded(
    backend: object,
) -> None:
    cache = JudgeCache.in_memory()
    first = judge_with(backend, "new_episodes", cache)
    assert not first.evaluate(request(0.0, reasons="none")).reasoned
    # The threshold moved above the score: the answer replays, the reason is one call.
    second = judge_with(backend, "new_episodes", cache)
    failed = second.evaluate(request(1.0))
    assert failed.reasoned and not failed.passed
    assert (second.replayer.totals.replayed, second.replayer.totals.calls) == (1, 1)
    # ... recorded: a third run replays both, and makes no call.
    third = judge_with(backend, "none", cache)
    again = third.evaluate(request(1.0))
    assert again.reasoning == failed.reasoning and again.cached
    assert (third.replayer.totals.replayed, third.replayer.totals.calls) == (2, 0)


def test_a_reason_record_mode_none_cannot_replay_is_a_miss_said_so(backend: object) -> None:
    cache = JudgeCache.in_memory()
    judge_with(backend, "new_episodes", cache).evaluate(request(0.0, reasons="none"))
    offline = judge_with(backend, "none", cache)
    with pytest.warns(CacheWarning, match="reason not generated: the verdict"):
        verdict = offline.evaluate(request(1.0))
    # The verdict stands (its answer was recorded); its reason was never recorded.
    assert not verdict.passed and not verdict.reasoned
    assert verdict.reasoning.startswith("reason not generated: the verdict (FAIL at ")
    assert "record mode none: no recorded judgment for this judge call" in verdict.reasoning
    assert any("record mode none" in note for note in offline.replayer.totals.notes)
    assert offline.replayer.totals.calls == 0


def test_the_run_says_why_a_reason_is_missing(judged: pytest.Pytester) -> None:
    judged.makepyfile(f"""
        import pytest
        from pytest_llmjudge import assert_judged

        def test_far_pass():
            assert_judged({REPLY!r}, "The reply is polite", threshold=0.0)

        @pytest.mark.llmjudge(reasons="none")
        def test_fails_without_a_reason():
            assert_judged({REPLY!r}, "The reply is polite", threshold=1.0)

        def test_fails_with_one():
            assert_judged({REPLY!r}, "The reply is polite", threshold=1.0)
    """)
    result = judged.runpytest("--llmjudge-report=r.json", "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines([
        "*test_fails_without_a_reason*",
        "*judge answered * (P(YES) = 0.*); reason:",
        "*reason not generated: failed at 0.*, threshold 1.00 (llmjudge_reasons=none)",
    ])
    import json

    report = json.loads((judged.path / "r.json").read_text())
    shown = {t["nodeid"].rsplit("::", 1)[1]: t["verdicts"][0] for t in report["tests"]}
    assert not shown["test_far_pass"]["reasoned"] or shown["test_far_pass"]["score"] < 0.1
    assert shown["test_far_pass"]["reasoning"]  # never an empty string
    assert not shown["test_fails_without_a_reason"]["reasoned"]
    assert shown["test_fails_with_one"]["reasoned"]


def test_a_polled_verdict_reasons_whatever_the_setting(backend: object) -> None:
    judge = judge_with(backend)
    polled = dataclasses.replace(request(0.0, reasons="none"), policy=Policy(
        strategy="chainpoll", polls=2, min_polls=2, reasons="none"))
    verdict = judge.evaluate(polled)
    assert verdict.reasoned and all(v.reason for v in verdict.votes)
