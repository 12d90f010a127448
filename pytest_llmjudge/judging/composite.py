"""Verdicts made of verdicts: a checklist from its items, an answer from its claims.

A part counts as passed only when it passed and settled. A combined verdict is
UNSTABLE when its unsettled parts decide it: it fails with them counted as failed
and would pass with them counted as passed. Otherwise it is as firm as its parts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from .verdict import Verdict


@dataclass(frozen=True)
class Extra:
    """Judge work that belongs to the combined verdict but to none of its parts
    (writing the checklist or the claims)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    attempts: int = 0
    cost_usd: float | None = None
    replayed: bool = True  # every call of it was replayed from the cache (or none made)
    dry_run: bool = False  # a dry run stood in for the judge


NO_EXTRA = Extra()


def _firm(part: Verdict) -> bool:
    return part.passed and not part.unstable


def pass_rate(parts: Sequence[Verdict], weights: Sequence[float], *,
              unsettled_pass: bool = False) -> float:
    total = sum(weights)
    won = sum(w for p, w in zip(parts, weights, strict=True)
              if _firm(p) or (unsettled_pass and p.unstable))
    return won / total


def checklist(parts: Sequence[Verdict], weights: Sequence[float], threshold: float, *,
              criterion: str, output: str, latency_s: float, notes: Sequence[str] = (),
              extra: Extra = NO_EXTRA) -> Verdict:
    """Score: the weighted share of items that passed; passes at ``threshold``."""
    score = pass_rate(parts, weights)
    passed = score >= threshold
    unstable = not passed and pass_rate(parts, weights, unsettled_pass=True) >= threshold
    return build(parts, "item", weights, notes, score, threshold, passed, unstable,
                  criterion, output, latency_s, extra)


def claims(parts: Sequence[Verdict], *, criterion: str, output: str, latency_s: float,
           notes: Sequence[str] = (), extra: Extra = NO_EXTRA) -> Verdict:
    """An answer is grounded when every claim is. Score: the lowest claim score, so a
    single invented claim pulls the whole answer down by its own measure."""
    return every(parts, "claim", criterion=criterion, output=output, latency_s=latency_s,
                 notes=notes, extra=extra)


def every(parts: Sequence[Verdict], kind: str, *, criterion: str, output: str,
          latency_s: float, notes: Sequence[str] = (), extra: Extra = NO_EXTRA) -> Verdict:
    """Passes when every part does (claims of an answer, turns of a conversation,
    arguments of a call). Score: the lowest part's."""
    score = min(p.score for p in parts)
    passed = all(_firm(p) for p in parts)
    unstable = not passed and all(_firm(p) or p.unstable for p in parts)
    threshold = max(p.threshold for p in parts)
    return build(parts, kind, (1.0,) * len(parts), notes, score, threshold, passed,
                  unstable, criterion, output, latency_s, extra)


def both_ways(asked: Verdict, opposite: Verdict, threshold: float, *, criterion: str,
              latency_s: float) -> Verdict:
    """One yes/no question asked in both polarities ("does it abstain?", "does it
    answer?"): the score averages P(yes) of the first with P(no) of the second, which
    cancels a judge's lean towards YES. UNSTABLE when either side is."""
    score = (asked.score + 1.0 - opposite.score) / 2
    verdict = build((asked, opposite), "polarity", (1.0, 1.0), (), score, threshold,
                     score >= threshold, asked.unstable or opposite.unstable, criterion,
                     asked.output, latency_s, NO_EXTRA)
    side = asked if verdict.passed else opposite
    return dataclasses.replace(verdict, answer=asked.answer if verdict.passed else
                               opposite.answer, reasoning=side.reasoning,
                               reasoned=side.reasoned)


def build(parts: Sequence[Verdict], kind: str, weights: Sequence[float],
           notes: Sequence[str], score: float, threshold: float, passed: bool,
           unstable: bool, criterion: str, output: str, latency_s: float,
           extra: Extra) -> Verdict:
    failing = [p for p in parts if not _firm(p)]
    # The reason shown is the first part that argues for the verdict's side (one whose
    # reason was written, where any was: llmjudge_reasons writes only some).
    side = list((failing or list(parts)) if not passed else parts)
    shown = next((p for p in side if p.reasoned), side[0]) if side else None
    costs = [p.cost_usd for p in parts if p.cost_usd is not None]
    if extra.cost_usd is not None:
        costs.append(extra.cost_usd)
    return Verdict(
        passed=passed,
        score=score,
        threshold=threshold,
        answer="YES" if passed else "NO",
        reasoning=shown.reasoning if shown is not None else "",
        reasoned=shown.reasoned if shown is not None else True,
        criterion=criterion,
        output=output,
        judge_id=parts[0].judge_id,
        prompt_version=parts[0].prompt_version,
        prompt_tokens=sum(p.prompt_tokens for p in parts) + extra.prompt_tokens,
        completion_tokens=sum(p.completion_tokens for p in parts) + extra.completion_tokens,
        latency_s=latency_s,
        attempts=sum(p.attempts for p in parts) + extra.attempts,
        cost_usd=sum(costs) if costs else None,
        strategy=parts[0].strategy,
        unstable=unstable,
        parts=tuple(parts),
        part_kind=kind,
        weights=tuple(weights),
        notes=tuple(notes),
        cached=extra.replayed and all(p.cached for p in parts),
        dry_run=extra.dry_run or any(p.dry_run for p in parts),
    )
