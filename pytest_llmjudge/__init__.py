"""pytest-llmjudge: an LLM judge as an ordinary, explained pytest assertion."""

from __future__ import annotations

from .assertion import JudgeAssertionError, JudgeFixture, assert_judged, assert_judged_async
from .errors import (
    BackendUnavailableError,
    ContextOverflowError,
    JudgeConfigError,
    JudgeError,
    JudgeReplyError,
    JudgeTimeoutError,
    ModelLoadError,
    ModelNotFoundError,
)
from .verdict import JudgeRequest, Verdict

__all__ = [
    "BackendUnavailableError",
    "ContextOverflowError",
    "JudgeAssertionError",
    "JudgeConfigError",
    "JudgeError",
    "JudgeFixture",
    "JudgeReplyError",
    "JudgeRequest",
    "JudgeTimeoutError",
    "ModelLoadError",
    "ModelNotFoundError",
    "Verdict",
    "assert_judged",
    "assert_judged_async",
]
