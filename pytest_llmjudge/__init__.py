"""pytest-llmjudge: an LLM judge as an ordinary, explained pytest assertion."""

from __future__ import annotations

from .assertion import (
    JudgeAssertionError,
    JudgeFixture,
    assert_abstains,
    assert_correct,
    assert_grounded,
    assert_judged,
    assert_judged_async,
    assert_not_abstains,
)
from .checklist import ChecklistFixture, assert_checklist
from .checklist_file import CorruptChecklistError
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
    "ChecklistFixture",
    "ContextOverflowError",
    "CorruptChecklistError",
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
    "assert_abstains",
    "assert_checklist",
    "assert_correct",
    "assert_grounded",
    "assert_judged",
    "assert_judged_async",
    "assert_not_abstains",
]
