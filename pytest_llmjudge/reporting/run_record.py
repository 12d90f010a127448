"""The session record of judged tests: collected from test reports, summarised at the end.

Verdicts travel on each test report's ``user_properties``, so the record builds the
same way in a plain run and on a pytest-xdist controller. Judge totals (calls, cache
hits, tokens, cost) are counted per process and handed in merged. It knows nothing
about backends: it reads plain JSON values.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..config.settings import Settings
from ..judging.verdict import Verdict
from ..masking import mask, mask_data
from ..storage.files import write_atomically

# The properties a test's judged verdicts ride on (user_properties): to the reports,
# JUnit XML and pytest-xdist's controller.
VERDICT_PROPERTY = "llmjudge_verdict"  # the whole verdict, as JSON
# Plain-text properties for JUnit XML readers: one of each per verdict.
SCORE_PROPERTY = "llmjudge_score"
VOTES_PROPERTY = "llmjudge_votes"
ERROR_PROPERTY = "llmjudge_error"
CALIBRATION_PROPERTY = "llmjudge_calibration"
# A sampled test's pass rate and decision (assertions/sampled.py), as JSON.
SAMPLE_PROPERTY = "llmjudge_sample"
REPORT_VERSION = 1
TOP = 5  # rows of the slowest and borderline lists (twice as many with -v)


@dataclass
class JudgedTest:
    nodeid: str
    outcome: str
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    seen: set[str] = field(default_factory=set, repr=False)  # the verdicts' JSON texts
    sampled: dict[str, Any] | None = None  # a sampled test's pass rate (SAMPLE_PROPERTY)

    @property
    def judge_s(self) -> float:
        return sum(float(v["latency_s"]) for v in self.verdicts)


@dataclass
class RunTotals:
    """The run's judge work, merged over processes (see budget.Totals)."""

    totals: dict[str, Any] = field(default_factory=dict)
    budget: dict[str, Any] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    asked: dict[str, str] = field(default_factory=dict)  # digest -> request (judging/drift.py)

    def merge(self, part: dict[str, Any]) -> None:
        for name, value in part["totals"].items():
            if name == "notes":
                known = self.totals.setdefault("notes", [])
                known += [n for n in value if n not in known]
            else:
                self.totals[name] = self.totals.get(name, 0) + value
        # Every process reads the one shared spend: the largest reading is the latest.
        budget = part["budget"]
        if not self.budget or budget["calls"] >= self.budget["calls"]:
            self.budget = dict(budget)
        self.used |= set(part["used"])
        self.asked.update(part.get("asked", {}))


@dataclass
class SessionRecord:
    tests: dict[str, JudgedTest] = field(default_factory=dict)
    calibration: list[str] = field(default_factory=list)  # the calibration run's report
    # Verdicts whose score moved toward their threshold since the recorded judgment of
    # the same test and criterion (Collector.watch_recorded), as summary lines.
    watch: list[str] = field(default_factory=list)

    def add(self, report: pytest.TestReport) -> None:
        for key, value in report.user_properties:
            if key == CALIBRATION_PROPERTY and str(value) not in self.calibration:
                self.calibration.append(str(value))
        shown = [str(v) for k, v in report.user_properties if k == VERDICT_PROPERTY]
        errors = [str(v) for k, v in report.user_properties if k == ERROR_PROPERTY]
        sampled = [str(v) for k, v in report.user_properties if k == SAMPLE_PROPERTY]
        if not shown and not errors:
            return
        entry = self.tests.setdefault(report.nodeid, JudgedTest(report.nodeid, report.outcome))
        if sampled:
            entry.sampled = json.loads(sampled[-1])
        # user_properties accumulate over setup/call/teardown: keep only what is new (the
        # same JSON text is the same verdict; each is parsed once).
        fresh = [text for text in shown if text not in entry.seen]
        entry.seen.update(fresh)
        entry.verdicts += [json.loads(text) for text in fresh]
        if errors:
            entry.error = errors[-1]
            entry.outcome = "error"
        elif report.failed and entry.outcome != "error":
            entry.outcome = "failed"
        elif report.skipped and entry.outcome == "passed":
            entry.outcome = "skipped"

    @property
    def verdicts(self) -> Iterator[dict[str, Any]]:
        for test in self.tests.values():
            yield from test.verdicts

    def summary_lines(self, run: RunTotals, verbosity: int) -> Iterator[str]:
        """The terminal summary: headline figures at -q, the slowest tests and the
        borderline verdicts too by default, twice as many and the errors at -v."""
        for text in self.calibration:
            yield from text.splitlines()
        verdicts = [v for v in self.verdicts if not v.get("dry_run")]
        errors = [t for t in self.tests.values() if t.error]
        totals = run.totals
        if not verdicts and not errors and not totals.get("dry_run") and not totals.get("calls"):
            return
        unstable = sum(1 for v in verdicts if v.get("unstable"))
        passed = sum(1 for v in verdicts if v["passed"] and not v.get("unstable"))
        split = f", {unstable} UNSTABLE" if unstable else ""
        yield (f"judged assertions: {passed} passed, {len(verdicts) - passed - unstable} "
               f"failed{split}; {len(errors)} judge error(s)")
        yield calls_line(totals)
        if totals.get("dry_run"):
            yield (f"dry run: {totals['dry_run']} judge call(s) counted, none made (polled "
                   "verdicts at their minimum polls, no retries); tests that would have "
                   "called the judge are reported as skipped")
        budget = run.budget
        if budget and (budget.get("max_calls") is not None or
                       budget.get("max_cost_usd") is not None):
            yield budget_line(budget, totals.get("budget_stops", 0))
        for note in totals.get("notes", []):
            yield f"warning: {note}"
        if verbosity < 0:
            return
        rows = TOP * (2 if verbosity > 0 else 1)
        judges = sorted({v["judge_id"] for v in verdicts})
        if judges:
            yield f"judge: {', '.join(judges)}"
        slow = sorted((t for t in self.tests.values()
                       if any(not v.get("dry_run") for v in t.verdicts)),
                      key=lambda t: -t.judge_s)[:rows]
        if slow:
            yield "slowest judged tests:"
            for test in slow:
                yield f"  {test.judge_s:7.2f}s  {test.nodeid} ({len(test.verdicts)} verdict(s))"
        graded = [(t.nodeid, v) for t in self.tests.values() for v in t.verdicts
                  if not v.get("dry_run")]
        # A threshold of 0 passes every score and one of 1 only a perfect score: a
        # verdict there is decided by the threshold, not near it, and is listed apart.
        edge = [(n, v) for n, v in graded if not 0.0 < v["threshold"] < 1.0]
        close = sorted((p for p in graded if 0.0 < p[1]["threshold"] < 1.0),
                       key=lambda p: abs(p[1]["score"] - p[1]["threshold"]))[:rows]
        if close:
            yield "borderline verdicts (closest to their thresholds):"
            for nodeid, v in close:
                yield (f"  {v['outcome']:8} score {v['score']:.3f} vs threshold "
                       f"{v['threshold']:g}  {nodeid}  {v['criterion'][:60]!r}")
        if edge:
            yield (f"verdicts against a threshold of 0 or 1 (0 passes any score, 1 only a "
                   f"perfect one; not borderline): {len(edge)}")
            for nodeid, v in edge[:rows]:
                yield (f"  {v['outcome']:8} score {v['score']:.3f} vs threshold "
                       f"{v['threshold']:g}  {nodeid}  {v['criterion'][:60]!r}")
        yield from self.sampled_lines()
        if self.watch:
            yield ("moved toward their threshold since the recorded judgment (not flipped "
                   "yet):")
            yield from self.watch[:rows]
        if verbosity > 0:
            for test in errors:
                yield f"ERROR {test.nodeid}: {test.error}"

    def sampled_lines(self) -> Iterator[str]:
        """Sampled tests, the largest drop against the baseline first (then the lowest
        rate); a drop that is not significant is marked as one to watch."""
        sampled = [t for t in self.tests.values() if t.sampled]
        if not sampled:
            return
        yield "sampled tests (pass rate; change against the baseline, largest drop first):"
        def order(test: JudgedTest) -> tuple[float, float]:
            s = test.sampled or {}
            return s.get("change", 0.0), s["passes"] / max(1, s["samples"])

        for test in sorted(sampled, key=order):
            s = test.sampled or {}
            low, high = s["interval"]
            line = (f"  {s['outcome']:8} {s['passes']}/{s['samples']} ({low:.2f}-{high:.2f}) "
                    f"vs {s['min_pass_rate']:g}")
            if "baseline" in s:
                then = s["baseline"]
                watch = " WATCH" if s["change"] < 0 and test.outcome == "passed" else ""
                line += (f"; baseline {then['passes']}/{then['samples']}, "
                         f"{s['change']:+.2f}, p = {s['p_value']:.3g}{watch}")
            elif s.get("stored"):
                line += "; stored as the baseline"
            yield f"{line}  {test.nodeid}"

    def document(self, run: RunTotals, settings: Settings) -> dict[str, Any]:
        return {
            "version": REPORT_VERSION,
            "settings": {
                "backend": settings.backend,
                "model": settings.model,
                "threshold": settings.threshold,
                "n_gpu_layers": settings.n_gpu_layers,
                "record_mode": settings.record_mode,
                "dry_run": settings.dry_run,
            },
            "totals": run.totals,
            "budget": run.budget,
            "tests": [
                {"nodeid": t.nodeid, "outcome": t.outcome, "error": t.error,
                 "judge_s": t.judge_s, "verdicts": t.verdicts,
                 **({"sampled": t.sampled} if t.sampled else {})}
                for t in self.tests.values()
            ],
        }

    def write(self, path: str, run: RunTotals, settings: Settings) -> Path:
        """Write the JSON record atomically, creating missing parent directories."""
        return write_atomically(
            Path(path), mask(json.dumps(mask_data(self.document(run, settings)), indent=2)))


def calls_line(totals: dict[str, Any]) -> str:
    tokens = totals.get("prompt_tokens", 0) + totals.get("completion_tokens", 0)
    calls = totals.get("calls", 0)
    priced = totals.get("priced_calls", 0)
    # A run that made no calls spent nothing, whatever the judge: it says so in words,
    # as a run whose judge reports no price says that, not a bare "$0".
    cost = (f"${totals.get('cost_usd', 0.0):.4f}" if priced == calls and calls else
            f"${totals.get('cost_usd', 0.0):.4f} for {priced} priced call(s)" if priced else
            "cost unknown (the judge reports no price)" if calls else
            "no cost (no calls made)")
    reused = totals.get("reused_prompt_tokens", 0)
    prompt = totals.get("prompt_tokens", 0)
    # How much of the prompts a local model read from its KV cache: the shared prefix.
    shared = (f"; {reused / prompt:.0%} of prompt tokens read from the KV cache"
              if reused and prompt else "")
    return (f"judge calls: {calls} made, {totals.get('replayed', 0)} replayed from the cache; "
            f"{tokens} tokens, {cost}, {totals.get('judge_s', 0.0):.1f}s judging{shared}")


def budget_line(budget: dict[str, Any], stops: int) -> str:
    parts = []
    if budget.get("max_calls") is not None:
        parts.append(f"{budget['calls']} of {budget['max_calls']} calls")
    if budget.get("max_cost_usd") is not None:
        parts.append(f"${budget['cost_usd']:.4f} of ${budget['max_cost_usd']:g}")
    stopped = f"; {stops} judge call(s) refused" if stops else ""
    return f"budget: {', '.join(parts)} spent{stopped}"


@dataclass
class Sample:
    """One run of a sampled test's body: its number (from 0) and the verdicts it made."""

    index: int
    verdicts: list[Verdict] = field(default_factory=list)


# The run of a sampled test in progress, per thread or task: its verdicts are counted
# to it and carry its number.
_sample: ContextVar[Sample | None] = ContextVar("llmjudge_sample", default=None)


@contextmanager
def sampling(index: int) -> Iterator[Sample]:
    sample = Sample(index)
    token = _sample.set(sample)
    try:
        yield sample
    finally:
        _sample.reset(token)


def record_verdicts(item: pytest.Item | None, verdicts: list[Verdict]) -> None:
    """Verdicts ride on the test's user_properties: to the report, JUnit, xdist's
    controller. Other plugins get each one through pytest_llmjudge_verdict. In a sampled
    test's run, each is counted to the run and carries its number ("sample", from 1)."""
    if item is None:
        return
    sample = _sample.get()
    for verdict in verdicts:
        data = verdict.to_dict()
        if sample is not None:
            sample.verdicts.append(verdict)
            data["sample"] = sample.index + 1
        # Masked here, so no report built from the properties (JUnit XML, xdist's
        # controller, other plugins' files) can carry a secret an output quoted.
        # Before encoding: JSON, then JUnit's XML, would spell a secret another way.
        item.user_properties.append((VERDICT_PROPERTY, mask(json.dumps(mask_data(data)))))
        item.user_properties.append((SCORE_PROPERTY, (
            f"{verdict.score:.3f} against threshold {verdict.threshold:g}: {verdict.outcome}")))
        item.user_properties.append((VOTES_PROPERTY, votes_text(verdict)))
        item.config.hook.pytest_llmjudge_verdict(item=item, verdict=verdict)


def comparison_signals(scores: list[float]) -> str:
    """A signals comparison in a few words, from its parts' scores (both orders' P(A),
    then each output's P(YES) alone; or the alone scores only)."""
    alone = f"alone {scores[-2]:.2f} vs {scores[-1]:.2f}"
    if len(scores) == 2:
        return alone
    return f"orders {scores[0]:.2f}/{1 - scores[1]:.2f}, {alone}"


def votes_text(verdict: Verdict) -> str:
    """The votes in a few words: "4/5 YES", "P(YES) 0.873", or what a combined verdict
    is made of."""
    if verdict.part_kind == "alone" or (verdict.part_kind == "order"
                                        and len(verdict.parts) == 4):
        return comparison_signals([p.score for p in verdict.parts])
    if verdict.parts:
        passed = sum(p.passed and not p.unstable for p in verdict.parts)
        return f"{passed}/{len(verdict.parts)} {verdict.part_kind}s passed"
    if verdict.dry_run:
        return "dry run: not judged"
    if len(verdict.votes) == 1 and verdict.votes[0].p_yes is not None:
        what = "expected rating" if verdict.scale else "P(YES)"
        if verdict.score_source:
            return f"head {verdict.score:.3f}, {what} {verdict.votes[0].p_yes:.3f}"
        return f"{what} {verdict.votes[0].p_yes:.3f}"
    return f"{verdict.yes_votes}/{verdict.polls} YES"
