"""What every judged assertion shares: the marker and the settings merged into a
request, the verdict concluded into pass, fail, warning or error, and a JudgeError
re-raised without the plugin's frames."""

from __future__ import annotations

import warnings
from types import TracebackType
from typing import Any, Literal

import pytest

from ..config.thresholds import Threshold, resolve
from ..errors import JudgeConfigError, JudgeError, UnstableVerdictError, UnstableVerdictWarning
from ..judging import requests
from ..judging.policy import Policy, make_policy
from ..judging.verdict import JudgeRequest, Verdict
from ..masking import mask
from ..reporting.failure import explain, printable
from ..session import JudgeSession, running

MARKER = "llmjudge"


class JudgeAssertionError(AssertionError):
    """A judged assertion that failed. Carries the verdict for reports and other plugins."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        # Masked: the output it quotes may hold a key, and CI logs are kept.
        super().__init__(printable(mask("\n".join(explain(verdict)))))


# Failures print the class by its public name, not this private module's.
JudgeAssertionError.__module__ = "pytest_llmjudge"


class plain_judge_errors:
    """``with plain_judge_errors():`` re-raises a JudgeError without the plugin's inner
    frames: the user needs the message and the line of their test, not llama.cpp
    internals. Anything else passes through untouched."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> Literal[False]:
        __tracebackhide__ = True
        if isinstance(error, JudgeError):
            raise error.with_traceback(None) from None
        return False


def marked(item: pytest.Item | None) -> tuple[dict[str, Any], object | None]:
    """The closest ``@pytest.mark.llmjudge``: its policy keywords and its threshold."""
    marker = item.get_closest_marker(MARKER) if item is not None else None
    if marker is None:
        return {}, None
    if marker.args:
        raise JudgeConfigError(
            "@pytest.mark.llmjudge takes keywords only, e.g. "
            "@pytest.mark.llmjudge(strategy='chainpoll', polls=5)"
        )
    keywords = dict(marker.kwargs)
    return keywords, keywords.pop("threshold", None)


def policy_and_threshold(session: JudgeSession, item: pytest.Item | None,
                         threshold: object | None, where: str,
                         policy_keywords: dict[str, Any]) -> tuple[Policy, Threshold]:
    """Settings < marker < call keywords for the policy; the threshold in the order of
    config/thresholds.py (the calibration file takes its place once the judge is known)."""
    settings = session.settings
    marker_keywords, marker_threshold = marked(item)
    policy = make_policy(settings.policy, marker_keywords, "@pytest.mark.llmjudge")
    policy = make_policy(policy, policy_keywords, where)
    return policy, resolve(threshold, marker_threshold, settings.threshold,
                           settings.sources.get("threshold", "default"))


def build_request(session: JudgeSession, item: pytest.Item | None, output: object,
                  criterion: object, threshold: object | None, where: str,
                  policy_keywords: dict[str, Any], scale: object = None) -> JudgeRequest:
    """An ``assert_judged`` request, its arguments checked and merged with the marker
    and the settings (built by judging/requests.py, as calibration builds it)."""
    policy, resolved = policy_and_threshold(session, item, threshold, where, policy_keywords)
    return requests.judged(output, criterion, resolved, policy, scale)


def conclude(verdict: Verdict, unstable: str) -> Verdict:
    """Pass, fail, or what an UNSTABLE verdict does under the policy's ``unstable``."""
    __tracebackhide__ = True
    if verdict.dry_run:
        return verdict  # placeholders graded nothing: the test is reported as skipped
    if verdict.unstable:
        if unstable == "error":
            raise UnstableVerdictError("\n".join(explain(verdict)))
        if unstable == "warn":
            warnings.warn(UnstableVerdictWarning("\n".join(explain(verdict))), stacklevel=3)
            return verdict
        raise JudgeAssertionError(verdict)
    if not verdict.passed:
        raise JudgeAssertionError(verdict)
    return verdict


def judge_and_conclude(where: str, output: object, criterion: object,
                       threshold: object | None, policy_keywords: dict[str, Any],
                       context: tuple[JudgeSession, pytest.Item | None] | None = None,
                       scale: object = None) -> Verdict:
    """The whole of a single-request assertion: build, judge, record, conclude."""
    __tracebackhide__ = True
    with plain_judge_errors():
        session, item = context or running()
        request = build_request(session, item, output, criterion, threshold, where,
                                policy_keywords, scale=scale)
        verdict = session.evaluate(item, request)
    return conclude(verdict, request.policy.unstable)


def checked_text(value: object, name: str, helper: str, optional: bool = False) -> str | None:
    """A text argument (context, question, ...): a non-empty str, or None if optional."""
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise JudgeConfigError(
            f"{helper}: {name} must be a non-empty str, got {value!r}"
            + ("; leave it out (None) if there is none" if optional else "")
        )
    return value


def required_text(value: object, name: str, helper: str) -> str:
    text = checked_text(value, name, helper)
    assert text is not None
    return text

