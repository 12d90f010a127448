"""The litellm backend against a real OpenAI-compatible server (llama-cpp-python's)
on 127.0.0.1, and against a fault-injecting proxy in front of it."""

from __future__ import annotations

import json
import time

import pytest
from servers import FaultProxy, JudgeServer, free_port

JUDGED = """
    from pytest_llmjudge import assert_judged

    def test_judged():
        assert_judged("Thank you! Could you share your order number?", "The reply is polite",
                      threshold={threshold})
"""


def test_judges_through_a_real_server(remote: pytest.Pytester, judge_server: JudgeServer) -> None:
    remote.makepyfile("""
        from pytest_llmjudge import assert_judged

        def test_passes(judge):
            verdict = judge.evaluate("Thank you for asking!", "The reply is polite")
            assert verdict.judge_id == "litellm:openai/judge"
            assert 0.0 < verdict.score < 1.0, "P(YES) comes from the server's logprobs"
            assert verdict.prompt_tokens > 50 and verdict.completion_tokens > 0

        def test_fails():
            assert_judged("Go away.", "The reply is polite", threshold=1.0)
    """)
    result = remote.runpytest(f"--llmjudge-api-base={judge_server.url}")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "llmjudge: backend litellm, model openai/judge*",
        "*judged assertion failed: score 0.* < threshold 1.00",
        "*judge: litellm:openai/judge, strategy logprob, prompt criterion.v1@*",
    ])


def test_unknown_provider_is_an_error(remote: pytest.Pytester) -> None:
    remote.makepyfile(JUDGED.format(threshold=0.5))
    result = remote.runpytest("--llmjudge-model=nosuchprovider/some-model")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*JudgeConfigError: litellm does not know the provider in "
                                 "model 'nosuchprovider/some-model'*"])


def test_missing_api_key_names_the_variable(
    remote: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    remote.makepyfile(JUDGED.format(threshold=0.5))
    result = remote.runpytest("--llmjudge-model=openai/gpt-4o-mini")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*needs an API key: set OPENAI_API_KEY in the environment*"])


def test_unreachable_server_is_an_error_naming_it(remote: pytest.Pytester) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    remote.makepyfile(JUDGED.format(threshold=0.5))
    result = remote.runpytest(f"--llmjudge-api-base={dead}", "--llmjudge-api-retries=1")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*BackendUnavailableError: judge server {dead} failed 2 "
                                 "attempt(s) (no HTTP status (connection failed))*"])


def test_server_that_answers_html_is_an_error(
    remote: pytest.Pytester, proxies: list[FaultProxy]
) -> None:
    proxies.append(FaultProxy(None, always="html"))
    remote.makepyfile(JUDGED.format(threshold=0.5))
    result = remote.runpytest(f"--llmjudge-api-base={proxies[0].url}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{proxies[0].url}*"])
    assert "passed" not in result.stdout.lines[-1]


def test_valid_json_of_the_wrong_shape_is_an_error(
    remote: pytest.Pytester, proxies: list[FaultProxy]
) -> None:
    proxies.append(FaultProxy(None, always="shape"))
    remote.makepyfile(JUDGED.format(threshold=0.5))
    result = remote.runpytest(f"--llmjudge-api-base={proxies[0].url}", "--llmjudge-retries=1")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*JudgeReplyError: judge reply does not fit the verdict "
                                 "schema*'answer' is a required property*after 2 attempts*"])


def test_retried_call_succeeds(
    remote: pytest.Pytester, judge_server: JudgeServer, proxies: list[FaultProxy]
) -> None:
    proxies.append(FaultProxy(judge_server.url, script=["429", "500", "drop"]))
    remote.makepyfile(JUDGED.format(threshold=0.0))
    result = remote.runpytest(f"--llmjudge-api-base={proxies[0].url}",
                              "--llmjudge-api-retries=3")
    result.assert_outcomes(passed=1)
    # The first call negotiates the structured-output format; the faults hit it first.
    assert proxies[0].requests[:4] == ["429", "500", "drop", "pass"]


def test_retries_that_run_out_name_the_server_and_last_status(
    remote: pytest.Pytester, judge_server: JudgeServer, proxies: list[FaultProxy]
) -> None:
    proxies.append(FaultProxy(judge_server.url, always="503"))
    remote.makepyfile(JUDGED.format(threshold=0.0))
    result = remote.runpytest(f"--llmjudge-api-base={proxies[0].url}",
                              "--llmjudge-api-retries=2")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*BackendUnavailableError: judge server {proxies[0].url} "
                                 "failed 3 attempt(s) (last status 503)*"])
    assert proxies[0].requests == ["503", "503", "503"]


def test_stalled_server_hits_the_timeout(
    remote: pytest.Pytester, judge_server: JudgeServer, proxies: list[FaultProxy]
) -> None:
    proxies.append(FaultProxy(judge_server.url, always="stall", stall_seconds=60))
    remote.makepyfile(JUDGED.format(threshold=0.0))
    started = time.monotonic()
    result = remote.runpytest(f"--llmjudge-api-base={proxies[0].url}", "--llmjudge-timeout=3")
    elapsed = time.monotonic() - started
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*JudgeTimeoutError: judge server * did not answer within "
                                 "llmjudge_timeout*"])
    assert elapsed < 20, f"a 3 s timeout took {elapsed:.1f} s"


def test_killed_server_errors_the_rest_and_the_session_finishes(
    remote: pytest.Pytester,
) -> None:
    server = JudgeServer(alias="judge")
    try:
        remote.makepyfile(f"""
            import os, signal
            from pytest_llmjudge import assert_judged

            def test_1_before():
                assert_judged("Thanks!", "The reply is polite", threshold=0.0)

            def test_2_kill():
                os.kill({server.process.pid}, signal.SIGKILL)
                os.waitpid({server.process.pid}, 0)

            def test_3_after():  # not test_1's call, which would replay from the cache
                assert_judged("Thanks a lot!", "The reply is polite", threshold=0.0)

            def test_4_after():
                assert_judged("Cheers!", "The reply is polite", threshold=0.0)
        """)
        report = remote.path / "report.json"
        started = time.monotonic()
        result = remote.runpytest(f"--llmjudge-api-base={server.url}",
                                  "--llmjudge-api-retries=1", f"--llmjudge-report={report}")
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(["*BackendUnavailableError: judge server http://127.0.0.1:*"])
    tests = {t["nodeid"].split("::")[1]: t for t in json.loads(report.read_text())["tests"]}
    assert tests["test_3_after"]["outcome"] == tests["test_4_after"]["outcome"] == "error"
    assert elapsed < 60


def test_several_servers_share_the_calls(
    remote: pytest.Pytester, judge_server: JudgeServer, proxies: list[FaultProxy]
) -> None:
    second = JudgeServer(alias="judge")
    try:
        proxies.extend([FaultProxy(judge_server.url), FaultProxy(second.url)])
        remote.makepyfile(**{
            f"test_spread{i}": JUDGED.format(threshold=0.0) for i in range(8)
        })
        bases = ",".join(p.url for p in proxies)
        # Uncached: the eight tests ask the same thing, which would otherwise replay.
        result = remote.runpytest(f"--llmjudge-api-base={bases}", "--llmjudge-record-mode=off")
    finally:
        second.stop()
    result.assert_outcomes(passed=8)
    counts = [len(p.requests) for p in proxies]
    assert sum(counts) >= 8 and min(counts) >= 1, counts


def test_secrets_stay_out_of_errors_and_reports(
    remote: pytest.Pytester, proxies: list[FaultProxy], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-test-DO-NOT-LEAK-8c1f"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    proxies.append(FaultProxy(None, always="401"))
    remote.makepyfile(JUDGED.format(threshold=0.5))
    report = remote.path / "report.json"
    result = remote.runpytest(f"--llmjudge-api-base={proxies[0].url}",
                              f"--llmjudge-report={report}", "-rA")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*refused the credentials*Incorrect API key provided: [*][*][*]*"])
    assert secret not in result.stdout.str() + result.stderr.str()
    assert secret not in report.read_text()
    assert proxies[0].requests == ["401"]  # authentication errors are not retried


def test_cost_is_recorded_where_the_price_is_known(judge_server: JudgeServer) -> None:
    import litellm

    from pytest_llmjudge.backends.litellm import LiteLLMBackend
    from pytest_llmjudge.config.settings import Settings

    priced = LiteLLMBackend(Settings(backend="litellm", model="openai/gpt-4o-mini",
                                     api_base=(judge_server.url,)).backend_config())
    response = litellm.ModelResponse(
        model="gpt-4o-mini",
        usage=litellm.Usage(prompt_tokens=1000, completion_tokens=100, total_tokens=1100),
    )
    cost = priced._cost(response)
    assert cost is not None and 0 < cost < 0.01
    unpriced = LiteLLMBackend(Settings(backend="litellm", model="openai/judge",
                                       api_base=(judge_server.url,)).backend_config())
    assert unpriced._cost(response.model_copy(update={"model": "judge"})) is None


def test_single_strategy_scores_the_hard_answer(
    remote: pytest.Pytester, judge_server: JudgeServer
) -> None:
    remote.makepyfile("""
        def test_hard(judge):
            verdict = judge.evaluate("Thank you for asking!", "The reply is polite",
                                     strategy="single")
            assert verdict.score in (0.0, 1.0)
            assert verdict.score == (1.0 if verdict.answer == "YES" else 0.0)
    """)
    result = remote.runpytest(f"--llmjudge-api-base={judge_server.url}",
                              "--llmjudge-api-logprobs=false")
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(("concurrency", "expected_max", "strategy"),
                         [(1, 1, "single"), (4, 4, "single"), (4, 4, "chainpoll")])
def test_independent_calls_run_concurrently_up_to_the_limit(
    remote: pytest.Pytester, judge_server: JudgeServer, proxies: list[FaultProxy],
    concurrency: int, expected_max: int, strategy: str,
) -> None:
    # With chainpoll, 5 verdicts of 3 polls each still keep at most 4 calls in flight.
    # (5 verdicts: one more than the limit, so the limit, not the batch, caps them.)
    proxies.append(FaultProxy(judge_server.url))
    remote.makepyfile("""
        def test_batch(judge):
            judge.evaluate("Warm-up.", "The text is short")  # learns the reply format
            verdicts = judge.evaluate_many(
                [(f"Reply number {i}: thanks for asking!", "The reply is polite")
                 for i in range(5)])
            assert len(verdicts) == 5 and all(v.judge_id == verdicts[0].judge_id
                                               for v in verdicts)
            assert [v.output for v in verdicts][:2] == [
                "Reply number 0: thanks for asking!", "Reply number 1: thanks for asking!"]
    """)
    result = remote.runpytest(f"--llmjudge-api-base={proxies[0].url}",
                              f"--llmjudge-concurrency={concurrency}",
                              f"--llmjudge-strategy={strategy}", "--llmjudge-polls=3",
                              "--llmjudge-api-logprobs=false")
    result.assert_outcomes(passed=1)
    assert proxies[0].max_in_flight == expected_max


def test_router_config_file_spreads_calls(
    remote: pytest.Pytester, judge_server: JudgeServer, proxies: list[FaultProxy]
) -> None:
    proxies.extend([FaultProxy(judge_server.url), FaultProxy(judge_server.url)])
    config = remote.path / "judges.yaml"
    config.write_text("model_list:\n" + "".join(
        f"  - model_name: team-judge\n    litellm_params:\n      model: openai/judge\n"
        f"      api_base: {p.url}\n" for p in proxies))
    remote.makepyfile(**{f"test_r{i}": JUDGED.format(threshold=0.0) for i in range(8)})
    # Uncached: the eight tests ask the same thing, which would otherwise replay.
    result = remote.runpytest("--llmjudge-model=team-judge", f"--llmjudge-router-config={config}",
                              "--llmjudge-api-logprobs=false", "--llmjudge-record-mode=off")
    result.assert_outcomes(passed=8)
    counts = [len(p.requests) for p in proxies]
    assert sum(counts) >= 8 and min(counts) >= 1, counts


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("model_list: [oops", "*is not a litellm model_list*"),
        ('{"model_list": [{"model_name": "other", "litellm_params": {"model": "openai/x"}}]}',
         "*llmjudge_model 'team-judge' is not a model_name in*(it has: other)*"),
    ],
)
def test_bad_router_config_is_an_error(
    remote: pytest.Pytester, content: str, message: str
) -> None:
    config = remote.path / ("judges.yaml" if content.startswith("model_list") else "judges.json")
    config.write_text(content)
    remote.makepyfile(JUDGED.format(threshold=0.0))
    result = remote.runpytest("--llmjudge-model=team-judge", f"--llmjudge-router-config={config}")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*JudgeConfigError: *" + message.lstrip("*")])
