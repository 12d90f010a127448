"""Shared fixtures. Mechanics run the real 135M model through real pytest runs (pytester)."""

from __future__ import annotations

# In-process pytester runs roll sys.modules back after each run, and numpy (under
# llama_cpp) cannot be imported twice in one process: import them once, up front.
import llama_cpp.llama_chat_format
import llama_cpp.llama_grammar  # noqa: F401
import pytest

pytest_plugins = ["pytester"]

MECHANICS_MODEL = "smollm2-135m"


@pytest.fixture
def judged(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester project whose judge is the real 135M model, with no LLMJUDGE_* leaking in."""
    for name in ("BACKEND", "MODEL", "THRESHOLD", "REPORT", "TIMEOUT", "MAX_TOKENS"):
        monkeypatch.delenv(f"LLMJUDGE_{name}", raising=False)
    pytester.makeini(f"[pytest]\nllmjudge_model = {MECHANICS_MODEL}\n")
    return pytester
