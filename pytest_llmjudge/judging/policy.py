"""How many times to ask the judge, and when the answer is settled.

Pure arithmetic and validation; no judge, no pytest. A *policy* says which strategy
scores a request and how polls are drawn; ``settle`` says, after each poll, whether
the verdict against the threshold is statistically settled.

The stopping rule is the Wilson score interval at the policy's confidence over the
poll scores (votes count 1 or 0; probability-weighted polls count their P(YES) as a
fractional vote). A verdict is settled once the whole interval lies on one side of
the threshold. Wilson rather than the normal approximation because it stays inside
[0, 1] and behaves with a handful of unanimous votes, which is the common case.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from ..errors import JudgeConfigError

# single: one call at temperature 0, scored by its hard answer (1 or 0).
# logprob: one forward pass, scored by P(YES) (or the expected scale value).
# chainpoll: chain-of-thought polls, scored by the fraction of YES votes.
# weighted: chain-of-thought polls, each scored by its P(YES), averaged.
# auto: the benchmarked default for the backend (see default_strategy).
STRATEGIES = ("auto", "single", "logprob", "chainpoll", "weighted")
POLLING = ("chainpoll", "weighted")
NEEDS_LOGPROBS = ("logprob", "weighted")
UNSTABLE_MODES = ("fail", "warn", "error")
# When a one-pass verdict (single, logprob) gets its reason written: for failures (and
# UNSTABLE verdicts, and verdicts within REASON_MARGIN of their threshold), for every
# verdict, or never. A polled verdict reasons before it answers, whatever this says.
REASONS = ("failures", "all", "none")
# A pass this close to its threshold is worth explaining: it may flip on the next run.
REASON_MARGIN = 0.1


@dataclass(frozen=True)
class Policy:
    """How verdicts are drawn: the strategy, the polling budget and its stopping rule,
    what an UNSTABLE verdict does, and which verdicts get a written reason. Its fields
    are the keywords of every judged assertion and of ``@pytest.mark.llmjudge``."""

    strategy: str = "auto"
    polls: int = 5  # the most polls one verdict may draw
    min_polls: int = 3  # drawn before the stopping rule is consulted
    confidence: float = 0.9
    unstable: str = "fail"  # what an UNSTABLE verdict does to the assertion
    reasons: str = "failures"  # which one-pass verdicts get a reason (REASONS)

    def keywords(self) -> dict[str, object]:
        return {"strategy": self.strategy, "polls": self.polls, "min_polls": self.min_polls,
                "confidence": self.confidence, "unstable": self.unstable,
                "reasons": self.reasons}


POLICY_KEYWORDS = tuple(Policy().keywords())


def parse_strategy(raw: object) -> str:
    value = str(raw).strip().lower() if isinstance(raw, str) else raw
    if value not in STRATEGIES:
        raise JudgeConfigError(
            f"unknown strategy {raw!r}; valid strategies: {', '.join(STRATEGIES)}"
        )
    return str(value)


# ChainPoll's published runs use 3 to 5 polls; 99 leaves room for any study of it.
MAX_POLLS = 99


def parse_polls(raw: object, name: str = "polls") -> int:
    if isinstance(raw, bool):
        raise JudgeConfigError(f"{name}={raw!r} is not a whole number of polls")
    try:
        value: int = int(raw)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise JudgeConfigError(f"{name}={raw!r} is not a whole number of polls") from None
    if value != raw and not isinstance(raw, str):
        raise JudgeConfigError(f"{name}={raw!r} is not a whole number of polls")
    if value < 1:
        raise JudgeConfigError(
            f"{name}={raw!r}: a verdict needs at least 1 poll; use {name}=1 or more"
        )
    if value > MAX_POLLS:
        raise JudgeConfigError(
            f"{name}={raw!r} is above {MAX_POLLS}: past that many polls a verdict no longer "
            "settles, it only costs; use a probability-scored strategy (logprob, weighted) "
            "for a steadier score")
    return value


def parse_confidence(raw: object) -> float:
    try:
        value = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise JudgeConfigError(f"confidence={raw!r} is not a number; use e.g. 0.9") from None
    if isinstance(raw, bool) or not 0.0 < value < 1.0:
        raise JudgeConfigError(
            f"confidence={raw!r} is outside (0, 1); it is the probability that the settled "
            "verdict's interval holds, e.g. 0.9 or 0.95"
        )
    return value


def _choice(name: str, raw: object, choices: tuple[str, ...], meaning: str) -> str:
    value = raw.strip().lower() if isinstance(raw, str) else raw
    if value not in choices:
        raise JudgeConfigError(
            f"{name}={raw!r} is not a valid choice; use one of {', '.join(choices)} "
            f"({meaning})")
    return str(value)


def parse_unstable(raw: object) -> str:
    return _choice("unstable", raw, UNSTABLE_MODES,
                   "fail the test, pass with a warning, or report an error")


def parse_reasons(raw: object) -> str:
    return _choice("reasons", raw, REASONS, "write the judge's reason for failing and "
                   "borderline verdicts only, for every verdict, or for none")


_PARSERS: dict[str, Callable[[object], object]] = {
    "strategy": parse_strategy,
    "polls": parse_polls,
    "min_polls": lambda raw: parse_polls(raw, "min_polls"),
    "confidence": parse_confidence,
    "unstable": parse_unstable,
    "reasons": parse_reasons,
}


def make_policy(base: Policy, overrides: Mapping[str, object], where: str) -> Policy:
    """``base`` with ``overrides`` (marker or call keywords) applied and checked together.

    ``where`` names the source for error messages, e.g. "@pytest.mark.llmjudge"."""
    unknown = sorted(set(overrides) - set(_PARSERS))
    if unknown:
        raise JudgeConfigError(
            f"{where}: unknown keyword(s) {', '.join(unknown)}; valid: "
            f"{', '.join(POLICY_KEYWORDS)}, threshold"
        )
    if all(value is None for value in overrides.values()) and base.min_polls <= base.polls:
        return base  # nothing overridden (most assertions): nothing to check again
    changes: dict[str, object] = {}
    for name, raw in overrides.items():
        if raw is None:
            continue
        try:
            changes[name] = _PARSERS[name](raw)
        except JudgeConfigError as err:
            raise JudgeConfigError(f"{where}: {err}") from None
    policy = replace(base, **changes)  # type: ignore[arg-type]
    try:
        floor = reconcile_polls(policy.polls, policy.min_polls, "min_polls" in changes)
    except JudgeConfigError as err:
        raise JudgeConfigError(f"{where}: {err}") from None
    return replace(policy, min_polls=floor)


def reconcile_polls(polls: int, min_polls: int, min_polls_given: bool) -> int:
    """The minimum to use. A minimum the user gave above the maximum is an error; our
    default minimum above a lone polls=2 is lowered with it instead."""
    if min_polls <= polls:
        return min_polls
    if min_polls_given:
        raise JudgeConfigError(
            f"min_polls={min_polls} is above polls={polls} (the maximum); the maximum must "
            "be at least the minimum"
        )
    return polls


def default_strategy(supports_logprobs: bool) -> str:
    """What ``auto`` means for a backend. Chosen from benchmarks/accuracy.py: on the
    packaged local judges one forward pass scored by P(YES) ranked hallucinations better
    than chain-of-thought polls (1.5B, same 8 HaluEval items: AUROC 0.75 against 0.66)
    at a fifth of the time, with no run-to-run flips (docs/strategies.md has the
    figures). A judge that returns no probabilities can only vote, so it polls."""
    return "logprob" if supports_logprobs else "chainpoll"


@dataclass(frozen=True)
class Decision:
    score: float  # mean poll score
    low: float
    high: float
    settled: bool  # the interval lies wholly on one side of the threshold


def wilson(score: float, n: int, confidence: float) -> tuple[float, float]:
    """Two-sided Wilson score interval for a proportion ``score`` over ``n`` polls."""
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    z2 = z * z
    centre = (score + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(score * (1 - score) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def settle(scores: Sequence[float], threshold: float, confidence: float) -> Decision:
    mean = sum(scores) / len(scores)
    low, high = wilson(mean, len(scores), confidence)
    return Decision(mean, low, high, settled=low >= threshold or high < threshold)


def poll_seed(base: int, poll: int, attempt: int = 1) -> int:
    """The seed of one poll's attempt: fixed by the configured seed and the poll's
    position, so a rerun draws the same votes (and a cache can replay them)."""
    digest = hashlib.sha256(f"{base}:{poll}:{attempt}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
