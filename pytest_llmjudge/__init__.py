"""pytest-llmjudge: an LLM judge as an ordinary, explained pytest assertion."""

from __future__ import annotations

from .assertion import (
    JudgeAssertionError,
    assert_abstains,
    assert_correct,
    assert_grounded,
    assert_judged,
    assert_judged_async,
    assert_not_abstains,
)
from .baseline import BaselineFileError, BaselineFixture
from .checklist import ChecklistFixture, assert_checklist
from .checklist_file import CorruptChecklistError
from .comparison import assert_better, assert_not_worse
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
from .fixture import JudgeFixture
from .pairwise import Ranking
from .polling import Policy
from .verdict import JudgeRequest, Verdict, Vote

__all__ = [
    "BackendUnavailableError",
    "BaselineFileError",
    "BaselineFixture",
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
    "Ranking",
    "UnstableVerdictError",
    "UnstableVerdictWarning",
    "Verdict",
    "Vote",
    "assert_abstains",
    "assert_better",
    "assert_checklist",
    "assert_correct",
    "assert_grounded",
    "assert_judged",
    "assert_judged_async",
    "assert_not_abstains",
    "assert_not_worse",
]
