"""pytest-llmjudge: an LLM judge as an ordinary, explained pytest assertion."""

from __future__ import annotations

__version__ = "0.2.0"  # the one place the version is written (pyproject reads it)

from .assertions.agents import (
    ToolCallMismatch,
    ToolsFixture,
    assert_each_turn,
    assert_follows_role,
    assert_goal_met,
    assert_retains_knowledge,
    assert_tool_calls,
    assert_trajectory_judged,
)
from .assertions.checklist import assert_checklist
from .assertions.comparison import assert_better, assert_not_worse
from .assertions.fixtures import BaselineFixture, ChecklistFixture, JudgeFixture
from .assertions.judged import (
    JudgeAssertionError,
    assert_abstains,
    assert_correct,
    assert_grounded,
    assert_judged,
    assert_judged_async,
    assert_not_abstains,
)
from .assertions.sampled import SampledTestFailure
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
from .judging.pairwise import Ranking
from .judging.policy import Policy
from .judging.verdict import JudgeRequest, Verdict, Vote
from .storage.baselines import BaselineFileError
from .storage.checklist_files import CorruptChecklistError

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
    "SampledTestFailure",
    "ToolCallMismatch",
    "ToolsFixture",
    "UnstableVerdictError",
    "UnstableVerdictWarning",
    "Verdict",
    "Vote",
    "assert_abstains",
    "assert_better",
    "assert_checklist",
    "assert_correct",
    "assert_each_turn",
    "assert_follows_role",
    "assert_goal_met",
    "assert_grounded",
    "assert_judged",
    "assert_judged_async",
    "assert_not_abstains",
    "assert_not_worse",
    "assert_retains_knowledge",
    "assert_tool_calls",
    "assert_trajectory_judged",
]
