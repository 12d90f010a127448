"""pytest-llmjudge: an LLM judge as an ordinary, explained pytest assertion."""

from __future__ import annotations

from .assertion import (
    JudgeAssertionError,
    JudgeFixture,
    assert_correct,
    assert_grounded,
    assert_judged,
    assert_judged_async,
)
from .errors import (
    BackendUnavailableError,
    ContextOverflowError,
    JudgeConfigError,
    JudgeError,
    JudgeReplyError,
    JudgeTimeoutError,
    LogprobsUnavailableError,
    ModelLoadError,
    ModelNotFoundError,
    UnstableVerdictError,
    UnstableVerdictWarning,
)
from .polling import Policy
from .verdict import JudgeRequest, Verdict, Vote

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
    "LogprobsUnavailableError",
    "ModelLoadError",
    "ModelNotFoundError",
    "Policy",
    "UnstableVerdictError",
    "UnstableVerdictWarning",
    "Verdict",
    "Vote",
    "assert_correct",
    "assert_grounded",
    "assert_judged",
    "assert_judged_async",
]
