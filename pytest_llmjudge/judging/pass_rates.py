"""Pass rates of a sampled test (the app run n times, each run's judged asserts one
sample): when a rate meets its bar, when it is settled early, and whether it dropped
against a stored baseline.

The rule, with ``k`` passing samples of ``m`` taken so far, at most ``n``, bar ``r``:

- PASS once ``k >= ceil(r * n)``: the observed rate over all ``n`` samples meets the
  bar whatever the remaining samples do, so they are not taken;
- FAIL once the bar can no longer be met (``k + (n - m) < ceil(r * n)``) and the Wilson
  interval of ``k / m`` (at ``confidence``) lies wholly below ``r``: the rate is
  significantly below the bar;
- UNSTABLE when ``n`` samples are taken and neither holds: the observed rate is below
  the bar, but not significantly (``llmjudge_unstable`` decides what that does).

A PASS needs the observed rate only, not significance above the bar: with n=10 and a
bar of 0.8, even 10 of 10 has a 95% interval reaching down to 0.72, and a rule that
asked for the whole interval above 0.8 could never pass. A FAIL needs significance,
as an UNSTABLE polled verdict does, and a bar out of reach: the interval alone would
fail a test on its first failing sample (0 of 1 reaches only 0.79), so an app right
95% of the time would fail a bar of 0.9 about one run in twenty, no better than a
single-sample test (benchmarks/sampling.py measured it before this rule).

A drop against a baseline is tested with Fisher's exact test on the 2x2 table (samples
passed and failed, now and then), one-sided: the probability of a rate this low or
lower now if both runs shared one rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import JudgeConfigError
from .policy import wilson


@dataclass(frozen=True)
class SampleDecision:
    passes: int
    samples: int  # taken so far
    max_samples: int
    min_pass_rate: float
    confidence: float
    low: float  # Wilson interval of passes / samples
    high: float
    outcome: str  # PASS, FAIL, UNSTABLE, or RUNNING while more samples are wanted

    @property
    def rate(self) -> float:
        return self.passes / self.samples if self.samples else 0.0

    @property
    def settled(self) -> bool:
        return self.outcome != "RUNNING"

    def describe(self) -> str:
        """``pass rate 6/10 (0.60, 95% interval 0.31-0.83) against 0.80``."""
        return (f"pass rate {self.passes}/{self.samples} ({self.rate:.2f}, "
                f"{self.confidence * 100:g}% interval {self.low:.2f}-{self.high:.2f}) "
                f"against {self.min_pass_rate:g}")


def needed(min_pass_rate: float, max_samples: int) -> int:
    """Passing samples that meet the bar over all ``max_samples``: ceil(r * n), with the
    float product rounded first (0.8 * 10 is 8.000000000000002)."""
    return math.ceil(round(min_pass_rate * max_samples, 9))


def decide(results: Sequence[bool], max_samples: int, min_pass_rate: float,
           confidence: float) -> SampleDecision:
    """The outcome after ``results`` (one bool a sample taken, in order)."""
    samples, passes = len(results), sum(results)
    low, high = wilson(passes / samples, samples, confidence) if samples else (0.0, 1.0)
    bar = needed(min_pass_rate, max_samples)
    if passes >= bar:
        outcome = "PASS"
    elif passes + (max_samples - samples) < bar and high < min_pass_rate:
        outcome = "FAIL"
    elif samples >= max_samples:
        outcome = "UNSTABLE"
    else:
        outcome = "RUNNING"
    return SampleDecision(passes, samples, max_samples, min_pass_rate, confidence, low, high,
                          outcome)


def fisher_drop(passes_now: int, samples_now: int, passes_then: int,
                samples_then: int) -> float:
    """One-sided p-value of Fisher's exact test that the rate now is below the rate
    then: the hypergeometric probability of ``passes_now`` or fewer passes among the
    ``samples_now`` draws, given the passes of both runs together."""
    for name, k, n in (("now", passes_now, samples_now), ("then", passes_then, samples_then)):
        if n < 1 or not 0 <= k <= n:
            raise ValueError(f"{name}: {k} passes of {n} samples is not a pass rate")
    total, passed = samples_now + samples_then, passes_now + passes_then
    denominator = math.comb(total, samples_now)
    lowest = max(0, samples_now - (total - passed))
    return sum(math.comb(passed, k) * math.comb(total - passed, samples_now - k)
               for k in range(lowest, passes_now + 1)) / denominator


# A bound on one test's runs: past it, a test never ends in practice (n=10**9 ran on).
MAX_SAMPLES = 1_000


def parse_samples(raw: object, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise JudgeConfigError(f"{where}: n={raw!r} is not a number of runs; use a whole "
                               "number of at least 1, e.g. n=10")
    if raw > MAX_SAMPLES:
        raise JudgeConfigError(f"{where}: n={raw!r} is above {MAX_SAMPLES} runs of one "
                               "test; a drop in pass rate shows at n=20 to 50 "
                               "(docs/sampling-and-drift.md)")
    return raw


def parse_min_pass_rate(raw: object, where: str) -> float:
    if (isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw)
            or not 0.0 < raw <= 1.0):
        raise JudgeConfigError(f"{where}: min_pass_rate={raw!r} is not a share of runs; use "
                               "a number above 0 and at most 1, e.g. min_pass_rate=0.8")
    return float(raw)
