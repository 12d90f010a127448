"""Async tests await judged assertions without blocking or replacing their event loop."""

from __future__ import annotations

import pytest


def test_async_test_awaits_judgments(judged: pytest.Pytester) -> None:
    pytest.importorskip("pytest_asyncio")
    judged.makepyfile("""
        import asyncio
        import pytest
        from pytest_llmjudge import assert_judged_async

        @pytest.mark.asyncio
        async def test_concurrent(judge):
            loop = asyncio.get_running_loop()
            ticks = 0

            async def ticker():
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.01)

            task = asyncio.create_task(ticker())
            first, second = await asyncio.gather(
                assert_judged_async("Thanks a lot!", "The reply is polite", threshold=0.0),
                judge.aevaluate("Go away.", "The reply is polite"),
            )
            task.cancel()
            assert asyncio.get_running_loop() is loop
            assert first.passed and second.judge_id == first.judge_id
            assert ticks > 5, "the event loop kept running while the judge worked"

        @pytest.mark.asyncio
        async def test_async_failure_explains_itself():
            await assert_judged_async("Go away.", "The reply is polite", threshold=1.0)

        @pytest.mark.asyncio
        async def test_async_error_is_an_error():
            await assert_judged_async("", "The reply is polite")
    """)
    result = judged.runpytest("-p", "asyncio")
    result.assert_outcomes(passed=1, failed=1, errors=1)
    # pytest prints ERRORS before FAILURES.
    result.stdout.fnmatch_lines(["*JudgeConfigError: the output to judge is empty*",
                                 "*judged assertion failed: score * < threshold 1.00*"])
