"""Plumbing around the judge, with a stub backend plugged in through the public hook.

A stub never proves that judging works (the real-model tests do that); it proves
what the plugin does with replies a real model rarely produces on demand.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from stub_backend import stub_conftest


def _stub(pytester: pytest.Pytester, text: str, probs: dict[str, float] | None = None) -> None:
    pytester.makeconftest(stub_conftest("fixed", text=text, probs=probs))
    pytester.makepyfile("""
        from pytest_llmjudge import assert_judged

        def test_judged():
            assert_judged("Hello there", "The reply is polite")
    """)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Sure! The answer is YES.", "*judge reply is not JSON*"),
        ('{"answer": "PROBABLY"}', "*does not fit the verdict schema at answer*"),
        ('{"verdict": true}', "*does not fit the verdict schema*"),
    ],
)
def test_unfit_reply_errors_after_bounded_retries(
    pytester: pytest.Pytester, text: str, message: str
) -> None:
    _stub(pytester, text)
    result = pytester.runpytest("--llmjudge-retries=2")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "E   *JudgeReplyError: *" + message.lstrip("*"),
        # First try deterministic; retries sample the text, never the answer.
        "stub calls: 3",
        "stub temperatures: [(0.0, 0.0), (0.7, 0.0), (0.7, 0.0)]",
    ])


def test_score_comes_from_probabilities_when_the_backend_has_them(
    pytester: pytest.Pytester,
) -> None:
    _stub(pytester, '{"answer": "YES", "reason": "courteous"}', {"YES": 0.42, "NO": 0.58})
    result = pytester.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*score 0.420 < threshold 0.50*", "*courteous*"])


def test_single_strategy_scores_the_hard_answer(pytester: pytest.Pytester) -> None:
    _stub(pytester, '{"answer": "NO", "reason": "curt"}', {"YES": 0.9, "NO": 0.1})
    result = pytester.runpytest("--llmjudge-strategy=single")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*score 0.000 < threshold 0.50*", "*strategy single*"])


def test_logprob_strategy_errors_when_a_reply_has_no_probabilities(
    pytester: pytest.Pytester,
) -> None:
    # The backend claims probabilities but a reply comes without them: an error that
    # names the way out, never a silent switch to the hard answer.
    _stub(pytester, '{"answer": "YES", "reason": "courteous"}')
    result = pytester.runpytest("--llmjudge-strategy=logprob")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([
        "E   *LogprobsUnavailableError: strategy 'logprob' scores with P(YES), but stub:fixed "
        "returned no log-probabilities*strategy='chainpoll'*",
    ])


def test_loading_the_plugin_imports_no_heavy_library(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert 1 + 1 == 2\n")
    (tmp_path / "conftest.py").write_text(textwrap.dedent("""
        import sys

        def pytest_sessionfinish(session):
            heavy = sorted(m for m in ("llama_cpp", "litellm", "jsonschema", "tenacity", "numpy")
                           if m in sys.modules)
            print(f"heavy modules: {heavy}")
    """))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-s", "-p", "llmjudge", str(tmp_path)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "llmjudge: backend llamacpp" in done.stdout  # the plugin was active
    assert "heavy modules: []" in done.stdout
