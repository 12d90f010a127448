"""Exceptions. A judge that could not judge raises a JudgeError, never a verdict.

The plugin reports a JudgeError raised inside a test as an ERROR, not a FAIL:
the output under test was never graded, so neither outcome would be honest.
"""

from __future__ import annotations

from typing import Any

from .masking import mask

# A message is shown in the terminal and in every report: one that quotes a huge reply
# or server error is cut (its writers quote excerpts; this bounds what they miss).
MAX_MESSAGE_CHARS = 4_000


class JudgeError(Exception):
    """Judging could not happen. The message says what happened and what to do. Every
    message is masked (it may quote a server's error or a judge's reply) and bounded."""

    def __init__(self, message: Any = "", *args: Any) -> None:
        text = mask(str(message))
        if len(text) > MAX_MESSAGE_CHARS:
            text = (f"{text[:MAX_MESSAGE_CHARS]}... [message cut: {len(text):,} characters, "
                    f"the first {MAX_MESSAGE_CHARS:,} shown]")
        super().__init__(text, *args)


class JudgeConfigError(JudgeError):
    """A setting or an argument is invalid (bad threshold, empty criterion, ...)."""


class ModelNotFoundError(JudgeError):
    """The judge model could not be located or is not a usable model file."""


class ModelLoadError(JudgeError):
    """The model file exists but the backend failed to load it."""


class JudgeReplyError(JudgeError):
    """The judge's reply did not fit the verdict schema, even after retries."""


class JudgeTimeoutError(JudgeError):
    """One judge call ran past the configured timeout."""


class ContextOverflowError(JudgeError):
    """The prompt does not fit in the model's context window. Never truncated silently."""


class NoActiveSessionError(JudgeError):
    """An assertion helper was called outside a pytest run with the llmjudge plugin."""


class BackendUnavailableError(JudgeError):
    """A remote judge could not be reached or kept failing after retries."""


class LogprobsUnavailableError(JudgeConfigError):
    """A probability-scored strategy met a backend or model that shows no logprobs."""

    @classmethod
    def for_strategy(cls, judge_id: str, strategy: str) -> LogprobsUnavailableError:
        return cls(
            f"strategy {strategy!r} scores with P(YES), but {judge_id} returned no "
            "log-probabilities for the answer. Use strategy='chainpoll' (scores by votes, "
            "needs no probabilities), or a server and model that return top_logprobs; with "
            "the litellm backend, llmjudge_api_logprobs=false makes strategy 'auto' poll "
            "instead")


class UnstableVerdictError(JudgeError):
    """The polls still straddle the threshold at the maximum, and unstable='error'."""


class UnstableVerdictWarning(UserWarning):
    """A judged assertion passed only because unstable='warn': its polls still split."""
