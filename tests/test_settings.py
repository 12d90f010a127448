"""Options: one group, prefixed names, CLI > ini > env > default, bad values are usage errors."""

from __future__ import annotations

import math

import pytest

from pytest_llmjudge.config.options import OPTIONS, parse_threshold
from pytest_llmjudge.errors import JudgeConfigError

DUMMY = "def test_nothing():\n    pass\n"


def test_every_option_is_prefixed_everywhere() -> None:
    for option in OPTIONS:
        assert option.flag.startswith("--llmjudge-")
        assert option.ini.startswith("llmjudge_")
        assert option.env.startswith("LLMJUDGE_")


def test_help_lists_options_in_one_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["LLM judge (pytest-llmjudge):", "*--llmjudge-model=*"])


@pytest.mark.parametrize(
    ("cli", "ini", "env", "expected"),
    [
        ("from-cli.gguf", "from-ini.gguf", "from-env.gguf", "from-cli.gguf (from cli)"),
        (None, "from-ini.gguf", "from-env.gguf", "from-ini.gguf (from ini)"),
        (None, None, "from-env.gguf", "from-env.gguf (from env)"),
        (None, None, None, "qwen2.5-coder-1.5b (from default)"),
    ],
)
def test_precedence_cli_ini_env_default(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
    cli: str | None, ini: str | None, env: str | None, expected: str,
) -> None:
    monkeypatch.delenv("LLMJUDGE_MODEL", raising=False)
    if env:
        monkeypatch.setenv("LLMJUDGE_MODEL", env)
    pytester.makeini("[pytest]\n" + (f"llmjudge_model = {ini}\n" if ini else ""))
    pytester.makepyfile(DUMMY)
    args = [f"--llmjudge-model={cli}"] if cli else []
    result = pytester.runpytest(*args)
    result.stdout.fnmatch_lines([f"llmjudge: backend llamacpp, model {expected}, *"])
    result.assert_outcomes(passed=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--llmjudge-backend=nope"], "*--llmjudge-backend: unknown backend 'nope'; "
                                      "valid backends: llamacpp*"),
        (["--llmjudge-threshold=1.7"], "*--llmjudge-threshold*outside the score range*"
                                       "between 0 and 1*"),
        (["--llmjudge-threshold=high"], "*--llmjudge-threshold*not a number*"),
        (["--llmjudge-n-gpu-layers=all"], "*--llmjudge-n-gpu-layers*not an integer*-1 for all*"),
        (["--llmjudge-timeout=0"], "*--llmjudge-timeout*positive*"),
        (["--llmjudge-retries=-1"], "*--llmjudge-retries*below 0*"),
        (["--llmjudge-api-logprobs=maybe"], "*--llmjudge-api-logprobs*not a boolean*"),
        (["--llmjudge-api-base=localhost:8080"], "*--llmjudge-api-base*not an http(s) URL*"),
        (["--llmjudge-strategy=majority"], "*--llmjudge-strategy: unknown strategy 'majority'; "
                                           "valid strategies: auto, single, logprob, "
                                           "chainpoll, weighted*"),
        (["--llmjudge-polls=0"], "*--llmjudge-polls: polls='0': a verdict needs at least 1*"),
        (["--llmjudge-confidence=1"], "*--llmjudge-confidence: confidence='1' is outside (0, 1)*"),
        (["--llmjudge-confidence=0"], "*--llmjudge-confidence: confidence='0' is outside (0, 1)*"),
        (["--llmjudge-unstable=ignore"], "*--llmjudge-unstable*use one of fail, warn, error*"),
        (["--llmjudge-reasons=sometimes"], "*--llmjudge-reasons: reasons='sometimes' is not a "
                                           "valid choice; use one of failures, all, none*"),
        (["--llmjudge-polls=3", "--llmjudge-min-polls=4"],
         "*llmjudge_min_polls: min_polls=4 is above polls=3 (the maximum)*"),
    ],
)
def test_bad_values_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    pytester.makepyfile(DUMMY)
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])


def test_polls_alone_lowers_the_default_minimum(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        from pytest_llmjudge.session import session_key

        def test_policy(request):
            policy = request.config.stash[session_key].settings.policy
            assert (policy.polls, policy.min_polls, policy.strategy) == (2, 2, "chainpoll")
    """)
    pytester.runpytest("--llmjudge-polls=2", "--llmjudge-strategy=chainpoll").assert_outcomes(
        passed=1)


def test_bad_ini_and_env_values_name_their_source(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(DUMMY)
    pytester.makeini("[pytest]\nllmjudge_threshold = 1.7\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*llmjudge_threshold: threshold='1.7' is outside*"])

    pytester.makeini("[pytest]\n")
    monkeypatch.setenv("LLMJUDGE_BACKEND", "openai-please")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*LLMJUDGE_BACKEND: unknown backend 'openai-please'*"])


@pytest.mark.parametrize("raw", ["1.7", -0.1, "nan", True, None, "inf"])
def test_threshold_rejects_values_outside_zero_one(raw: object) -> None:
    with pytest.raises(JudgeConfigError, match="between 0 and 1"):
        parse_threshold(raw)


@pytest.mark.parametrize(("raw", "value"), [("0", 0.0), ("1", 1.0), (0.75, 0.75)])
def test_threshold_accepts_the_closed_range(raw: object, value: float) -> None:
    assert math.isclose(parse_threshold(raw), value)
