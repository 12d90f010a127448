"""Shared fixtures. Mechanics run the real 135M model through real pytest runs (pytester)."""

from __future__ import annotations

import os
from collections.abc import Iterator

# In-process pytester runs roll sys.modules back after each run, and numpy (under
# llama_cpp) cannot be imported twice in one process; litellm takes seconds to import.
# Import them once, up front, for the whole test session.
import llama_cpp.llama_chat_format
import llama_cpp.llama_grammar  # noqa: F401
import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price-list download
import litellm  # noqa: F401
from servers import JudgeServer

from pytest_llmjudge.backends import create_backend
from pytest_llmjudge.config.settings import Settings
from pytest_llmjudge.judging.judge import Judge

pytest_plugins = ["pytester"]

MECHANICS_MODEL = "smollm2-135m"
QUALITY_MODEL = "qwen2.5-coder-1.5b"
# pytest-asyncio (a test dependency) warns in every run that leaves this unset.
ASYNCIO_INI = "asyncio_default_fixture_loop_scope = function\n"


@pytest.fixture
def judged(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester project whose judge is the real 135M model, with no LLMJUDGE_* leaking in."""
    for name in ("BACKEND", "MODEL", "THRESHOLD", "REPORT", "TIMEOUT", "MAX_TOKENS"):
        monkeypatch.delenv(f"LLMJUDGE_{name}", raising=False)
    pytester.makeini(f"[pytest]\nllmjudge_model = {MECHANICS_MODEL}\n{ASYNCIO_INI}")
    return pytester


@pytest.fixture(scope="session")
def quality_judge() -> Iterator[Judge]:
    """The default 1.5B judge, loaded once for every test of judging quality."""
    settings = Settings(model=QUALITY_MODEL)
    loaded = Judge(create_backend(settings.backend_config()), settings)
    yield loaded
    loaded.backend.close()


@pytest.fixture(scope="session")
def judge_server() -> Iterator[JudgeServer]:
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1, with the 135M model."""
    server = JudgeServer()
    yield server
    server.stop()


@pytest.fixture
def remote(judged: pytest.Pytester) -> pytest.Pytester:
    """A pytester project configured for the litellm backend (the server comes per test)."""
    judged.makeini("[pytest]\nllmjudge_backend = litellm\nllmjudge_model = openai/judge\n"
                   + ASYNCIO_INI)
    return judged
