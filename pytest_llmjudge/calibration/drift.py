"""Judge drift: the verdicts of a judgments export against the judge configured now.

Each recorded judgment (one request of one test, its polls together) is read back with
the score the judge gave then (judging/asked.py reads it from the recorded reply) and
judged again. The report gives the agreement of the PASS/FAIL outcomes and Cohen's
kappa, each with an interval, every flip, the mean score shift, and the judgments
that moved toward their threshold by more than ``MARGIN`` without flipping yet.

Scores on both sides are the judge's own (P(YES), the expected rating, or the share of
YES votes), before any fitted head: a head belongs to one judge and cannot be read off
a recorded reply, so comparing heads would compare two different things.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import JudgeConfigError
from ..judging.asked import Asked, AskedError, parse_asked, recorded_score
from ..judging.policy import wilson
from ..judging.verdict import Verdict, excerpt
from ..storage.cache import Entry
from .metrics import Estimate, UndefinedMetric, bootstrap, confusion

MARGIN = 0.1  # a score this much closer to its threshold is listed, before it flips
SHOWN_FLIPS = 20  # flips listed in the report; all of them are in the failure text


class DriftFileError(JudgeConfigError):
    """A judgments file the drift check cannot read as recorded judgments."""


@dataclass(frozen=True)
class Recorded:
    """One recorded judgment: a test's request and the score its judge gave then."""

    test: str
    asked: Asked
    judge: str
    prompt: str
    score: float  # the mean of its polls' votes
    polls: int

    @property
    def passed(self) -> bool:
        return self.score >= self.asked.request.threshold


@dataclass(frozen=True)
class Rejudged:
    recorded: Recorded
    score: float
    judge: str
    prompt: str

    @property
    def passed(self) -> bool:
        return self.score >= self.recorded.asked.request.threshold

    @property
    def flipped(self) -> bool:
        return self.passed != self.recorded.passed

    @property
    def toward(self) -> float:
        """How much closer to the threshold the score moved (positive: closer)."""
        threshold = self.recorded.asked.request.threshold
        return abs(self.recorded.score - threshold) - abs(self.score - threshold)


@dataclass
class Readable:
    """What a judgments file holds for the drift check."""

    judgments: list[Recorded] = field(default_factory=list)
    without_request: int = 0  # calls exported before requests were kept: not re-judgeable
    reason_calls: int = 0  # a reason written after a direct answer: not a vote


def recorded_judgments(entries: Iterable[Entry], path: str) -> Readable:
    """The file's judgments: its calls grouped by test and request (a polled verdict is
    several calls), each scored the way its judge read it."""
    groups: dict[tuple[str, str], list[tuple[Entry, Asked]]] = {}
    readable = Readable()
    for entry in entries:
        if entry.asked is None:
            readable.without_request += 1
            continue
        try:
            asked = parse_asked(json.loads(entry.asked))
        except AskedError as err:
            raise DriftFileError(
                f"{path}: the judgment of {entry.test} with key {entry.key.digest[:12]} has "
                f"an \"asked\" request this version cannot ask again ({err}); re-export the "
                "file, or remove the line") from None
        if asked.explains:
            readable.reason_calls += 1
            continue
        groups.setdefault((entry.test, entry.asked), []).append((entry, asked))
    for (test, _), calls in groups.items():
        scores: dict[int, list[float]] = {}
        for entry, asked in calls:
            score = recorded_score(asked, entry.completion)
            if score is not None:
                scores.setdefault(entry.key.poll, []).append(score)
        if not scores:
            continue  # every attempt malformed: the call ended in an error, no verdict
        votes = [sum(s) / len(s) for s in scores.values()]
        first = calls[0][0].key
        readable.judgments.append(Recorded(test, calls[0][1], first.judge, first.prompt,
                                           sum(votes) / len(votes), len(votes)))
    readable.judgments.sort(key=lambda r: (r.test, r.asked.request.criterion))
    return readable


def own_score(verdict: Verdict, by_probability: bool) -> float:
    """The judge's own score of a verdict, as ``recorded_score`` reads a recorded one:
    the mean of its votes' P(YES) where it voted by probability, else of its answers."""
    from ..judging.reply_formats import choice_value

    votes = [v.p_yes if by_probability and v.p_yes is not None else
             choice_value(v.answer, verdict.scale) for v in verdict.votes]
    return sum(votes) / len(votes) if votes else verdict.score


@dataclass(frozen=True)
class DriftReport:
    path: str
    rejudged: tuple[Rejudged, ...]
    agreement: Estimate
    kappa: Estimate | None  # None where one side is all PASS or all FAIL
    mean_shift: float  # new score minus old, averaged
    same_judge: bool  # every judgment re-judged by the recorded judge and prompt
    without_request: int
    reason_calls: int

    @property
    def flips(self) -> list[Rejudged]:
        return [r for r in self.rejudged if r.flipped]

    @property
    def toward(self) -> list[Rejudged]:
        return sorted((r for r in self.rejudged if not r.flipped and r.toward > MARGIN),
                      key=lambda r: -r.toward)


def compare(path: str, readable: Readable, rejudged: Sequence[Rejudged], *,
            confidence: float = 0.95, seed: int = 0) -> DriftReport:
    n = len(rejudged)
    agree = sum(not r.flipped for r in rejudged)
    low, high = wilson(agree / n, n, confidence) if n else (0.0, 1.0)
    old = [int(r.recorded.passed) for r in rejudged]
    new = [float(r.passed) for r in rejudged]
    kappa = None
    if n and (0 < sum(old) < n or 0 < sum(new) < n):
        def metric(scores: Sequence[float], labels: Sequence[int]) -> float:
            if not (0 < sum(labels) < len(labels) or 0 < sum(scores) < len(scores)):
                raise UndefinedMetric("one outcome only")
            return confusion(scores, labels, 0.5).kappa
        kappa = bootstrap(metric, new, old, seed=seed, level=confidence)
    shift = sum(r.score - r.recorded.score for r in rejudged) / n if n else 0.0
    same = bool(n) and all(r.judge == r.recorded.judge and r.prompt == r.recorded.prompt
                           for r in rejudged)
    return DriftReport(path, tuple(rejudged), Estimate(agree / n if n else float("nan"),
                                                       low, high),
                       kappa, shift, same, readable.without_request, readable.reason_calls)


def report_lines(report: DriftReport, verbose: bool = False) -> list[str]:
    n = len(report.rejudged)
    flips = report.flips
    down = sum(r.recorded.passed for r in flips)
    judges = sorted({r.judge for r in report.rejudged})
    recorded = sorted({r.recorded.judge for r in report.rejudged})
    lines = [f"llmjudge drift on {report.path}: {n} recorded judgment(s) re-judged by "
             f"{', '.join(judges) or 'no judge'} (recorded by {', '.join(recorded) or '-'})"]
    if report.same_judge:
        lines.append("warning: the judge and its prompts are the ones that recorded these "
                     "judgments, so nothing can drift: the figures below only replay them. "
                     "Configure the new judge (model, backend or prompt) to compare")
    if report.without_request:
        lines.append(f"{report.without_request} judge call(s) in the file keep no request "
                     "(exported before 0.2): re-record them with --llmjudge-record-mode=all "
                     "--llmjudge-cache-export to check them for drift")
    if not n:
        return lines
    kappa = report.kappa.text() if report.kappa else "undefined (one outcome only)"
    lines += [
        f"agreement {report.agreement.text()}, Cohen's kappa {kappa}",
        f"flips: {len(flips)} ({down} PASS->FAIL, {len(flips) - down} FAIL->PASS); "
        f"mean score shift {report.mean_shift:+.3f}",
    ]
    shown = flips if verbose else flips[:SHOWN_FLIPS]
    for r in shown:
        lines.append(_row("PASS->FAIL" if r.recorded.passed else "FAIL->PASS", r))
    if len(flips) > len(shown):
        lines.append(f"  ... {len(flips) - len(shown)} more flip(s) (-v lists them all)")
    toward = report.toward
    if toward:
        lines.append(f"moved toward their threshold by more than {MARGIN:g}, not flipped "
                     f"yet: {len(toward)}")
        lines += [_row("closer", r) for r in (toward if verbose else toward[:SHOWN_FLIPS])]
    return lines


def _row(what: str, r: Rejudged) -> str:
    request = r.recorded.asked.request
    return (f"  {what:10} {r.recorded.score:.3f} -> {r.score:.3f} (threshold "
            f"{request.threshold:g})  {r.recorded.test}  {request.criterion[:60]!r}  "
            f"judged: {excerpt(request.output, 120)!r}")


def moved_toward(readable: Readable, verdicts: Iterable[tuple[str, dict[str, Any]]],
                 margin: float = MARGIN) -> list[str]:
    """Summary lines for this run's verdicts (node id, verdict as JSON) whose score moved
    toward the threshold by more than ``margin`` since the one recorded judgment of the
    same test and criterion, on the same side of it: the ones to look at before they
    flip. A test and criterion judged more than once (a sampled test, or one criterion
    asked of several outputs) is left out: there is no one recorded score to compare."""
    recorded: dict[tuple[str, str], list[Recorded]] = {}
    for r in readable.judgments:
        recorded.setdefault((r.test, r.asked.request.criterion), []).append(r)
    now: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for nodeid, verdict in verdicts:
        for v in _flat(verdict):
            if not v.get("dry_run"):
                now.setdefault((nodeid, str(v["criterion"])), []).append(v)
    moved = []
    for key, [v] in ((k, vs) for k, vs in now.items() if len(vs) == 1):
        then = recorded.get(key)
        if not then or len(then) != 1:
            continue
        old, threshold = then[0].score, float(v["threshold"])
        new = float(v["votes"][0]["p_yes"]) if len(v["votes"]) == 1 and \
            v["votes"][0].get("p_yes") is not None else float(v["score"])
        closer = abs(old - threshold) - abs(new - threshold)
        if (old >= threshold) == (new >= threshold) and closer > margin:
            moved.append((closer, f"  {old:.3f} -> {new:.3f} (threshold {threshold:g})  "
                                  f"{key[0]}  {key[1][:60]!r}"))
    return [line for _, line in sorted(moved, key=lambda m: -m[0])]


def _flat(verdict: dict[str, Any]) -> Iterable[dict[str, Any]]:
    """A verdict, or the parts it combines (a checklist's items, an answer's claims)."""
    parts = verdict.get("parts") or []
    if not parts:
        yield verdict
    for part in parts:
        yield from _flat(part)
