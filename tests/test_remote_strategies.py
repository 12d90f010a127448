"""Scoring strategies through the litellm backend, against llama-cpp-python's real
OpenAI-compatible server on 127.0.0.1 (through a recording proxy)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from servers import FaultProxy, JudgeServer


@pytest.fixture
def proxy(judge_server: JudgeServer) -> Iterator[FaultProxy]:
    made = FaultProxy(judge_server.url)
    yield made
    made.stop()


def test_chainpoll_polls_in_parallel_without_asking_for_logprobs(
    remote: pytest.Pytester, proxy: FaultProxy,
) -> None:
    remote.makepyfile("""
        def test_polled(judge):
            verdict = judge.evaluate("Thank you for asking!", "The reply is polite",
                                     strategy="chainpoll", polls=3)
            assert verdict.strategy == "chainpoll" and verdict.polls == 3
            assert all(v.answer in ("YES", "NO") and v.reason for v in verdict.votes)
            assert verdict.prompt_version.endswith("#cot")
    """)
    remote.runpytest(f"--llmjudge-api-base={proxy.url}").assert_outcomes(passed=1)
    # The first call learns the server's reply format (a rejected json_schema request
    # first); the other polls wait for it instead of each being rejected too.
    chats = [b for b in proxy.bodies if "messages" in b
             and b.get("response_format", {}).get("type") != "json_schema"]
    assert len(chats) == 3
    # Votes need no probabilities, and a server pays for computing them.
    assert not any(b.get("logprobs") for b in chats)
    assert all(b["temperature"] == 0.7 for b in chats)
    assert len({b["seed"] for b in chats}) == 3
    assert proxy.max_in_flight == 2  # the two polls after the first go out together


def test_logprob_strategy_errors_when_the_server_returns_none(
    remote: pytest.Pytester, proxy: FaultProxy,
) -> None:
    proxy.always = "nologprobs"
    remote.makepyfile("""
        from pytest_llmjudge import assert_judged

        def test_judged():
            assert_judged("Thank you for asking!", "The reply is polite", strategy="logprob")
    """)
    result = remote.runpytest(f"--llmjudge-api-base={proxy.url}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "E *LogprobsUnavailableError: strategy 'logprob' scores with P(YES), but "
        "litellm:openai/judge returned no log-probabilities*strategy='chainpoll'*"
        "llmjudge_api_logprobs=false*",
    ])


def test_auto_polls_once_a_server_sends_no_logprobs(
    remote: pytest.Pytester, proxy: FaultProxy,
) -> None:
    """Rough edge of issue 15: the docs said the score became the hard answer, the code
    errored every test. Now 'auto' learns from the first reply and polls, once warned."""
    proxy.always = "nologprobs"
    remote.makepyfile("""
        def test_one(judge):
            assert judge.evaluate("Thank you for asking!", "The reply is polite",
                                  polls=3).strategy == "chainpoll"

        def test_two(judge):
            assert judge.evaluate("Thanks, happy to help.", "The reply is polite",
                                  polls=3).strategy == "chainpoll"
    """)
    result = remote.runpytest(f"--llmjudge-api-base={proxy.url}")
    result.assert_outcomes(passed=2)
    assert result.stdout.str().count("LogprobsMissingWarning") == 1
    result.stdout.fnmatch_lines(["*litellm:openai/judge returned no log-probabilities, so "
                                 "strategy 'auto' scores by chainpoll votes*"])


def test_without_logprobs_auto_polls_and_logprob_is_refused_up_front(
    remote: pytest.Pytester, proxy: FaultProxy,
) -> None:
    remote.makepyfile("""
        import pytest
        from pytest_llmjudge import assert_judged

        def test_auto(judge):
            verdict = judge.evaluate("Thank you for asking!", "The reply is polite", polls=3)
            assert verdict.strategy == "chainpoll"

        def test_logprob():
            assert_judged("Thank you for asking!", "The reply is polite", strategy="logprob")
    """)
    result = remote.runpytest(f"--llmjudge-api-base={proxy.url}",
                              "--llmjudge-api-logprobs=false")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["E *LogprobsUnavailableError: strategy 'logprob'*"])
    # Only test_auto's polls reached the server (after one rejected json_schema request).
    assert len([b for b in proxy.bodies if "messages" in b]) == 4


def test_a_context_too_long_for_the_server_is_a_context_error(
    remote: pytest.Pytester, proxy: FaultProxy,
) -> None:
    remote.makepyfile("""
        from pytest_llmjudge import assert_grounded

        def test_long_context():
            assert_grounded("At 10am.", context="The library opens at 10am. " * 600)
    """)
    result = remote.runpytest(f"--llmjudge-api-base={proxy.url}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["E *ContextOverflowError: *context window*"])


def test_checklists_and_claims_go_through_a_real_server(
    remote: pytest.Pytester, proxy: FaultProxy,
) -> None:
    # The judge writes a list (the checklist, the claims) as JSON through the server's
    # structured output, then judges each item; items go out concurrently.
    remote.makepyfile(test_reply="""
        def test_reply(judge):
            verdict = judge.evaluate_checklist(
                "Sorry about order #1234; a replacement is on its way.",
                instruction="Apologise for the damaged order #1234 and offer a fix.",
                strategy="single")
            assert 1 <= len(verdict.parts) <= 8
            assert all(p.reasoning for p in verdict.parts)

        def test_items(judge):
            # Three items, whatever the model writes above: their calls overlap.
            judge.evaluate_checklist("Sorry about order #1234.", strategy="single", items=[
                "Mentions the order number", "Apologises", "Offers a refund"])
    """)
    remote.runpytest(f"--llmjudge-api-base={proxy.url}").assert_outcomes(passed=2)
    path = remote.path / "__llmjudge__" / "checklists" / "test_reply" / "test_reply.checklist"
    from pytest_llmjudge.storage.checklist_files import read

    stored = read(path)
    assert stored is not None and stored.written_by.startswith("litellm:openai/judge")
    assert proxy.max_in_flight >= 2
