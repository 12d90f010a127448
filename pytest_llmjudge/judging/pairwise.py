"""Pairwise comparison: is a candidate output better than a reference, by the criteria?

Small judges prefer a position far more than they prefer an answer (measured: the
preferred position flipped with the order in 94% of pairs), so every comparison is
judged twice, candidate first (as A) and candidate second (as B). Each order scores
P(A) under the request's strategy (P(A) from the logits, or the share of polled A
votes); seen from the candidate, the scores are P(A) and 1 - P(A), and the verdict's
score is their mean. The verdict is BETTER when both orders prefer the candidate,
WORSE when both prefer the reference, and TIE when the preference follows the
position instead: a verdict that flips with the order is a tie.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import JudgeConfigError
from . import composite
from .judge import Judge, evaluate_many
from .verdict import JudgeRequest, Verdict

OUTCOMES = ("BETTER", "TIE", "WORSE")
EVEN = 0.5  # P(A) of an order with no preference


def order_requests(request: JudgeRequest, reference: str) -> list[JudgeRequest]:
    """The comparison as two requests: candidate as A, then candidate as B. Each order
    is decided at 0.5 (which position it prefers), whatever the comparison's own
    threshold, so a polled order keeps polling while its preference is unsettled."""
    inputs = tuple(i for i in request.inputs if i[0] != "response_b")
    ordered = dataclasses.replace(request, threshold=EVEN, threshold_given=True)
    return [dataclasses.replace(ordered, inputs=(*inputs, ("response_b", reference))),
            dataclasses.replace(ordered, output=reference,
                                inputs=(*inputs, ("response_b", request.output)))]


def outcome(first: float, second: float) -> str:
    """BETTER/WORSE when both orders agree on the candidate's side of 0.5, else TIE."""
    if first > 0.5 and second > 0.5:
        return "BETTER"
    if first < 0.5 and second < 0.5:
        return "WORSE"
    return "TIE"


def compare(judge: Judge, request: JudgeRequest, reference: str,
            accept: Sequence[str]) -> Verdict:
    """The verdict on ``request.output`` (the candidate) against ``reference``. It passes
    when its outcome is in ``accept`` and its score reaches ``request.threshold``."""
    started = time.perf_counter()
    if request.output.strip() == reference.strip():
        return _identical(judge, request, accept)
    orders = evaluate_many(judge, order_requests(request, reference))
    return combine_orders(request, orders, accept, time.perf_counter() - started)


def combine_orders(request: JudgeRequest, orders: Sequence[Verdict], accept: Sequence[str],
                   latency_s: float) -> Verdict:
    first, second = orders[0].score, 1.0 - orders[1].score
    score = (first + second) / 2
    result = outcome(first, second)
    passed = result in accept and score >= request.threshold
    flipped = result == "TIE" and (first > 0.5) != (second > 0.5)
    notes = [f"P(candidate better): {first:.3f} shown first, {second:.3f} shown second"
             + ("; the preference followed the position, so a tie" if flipped else "")]
    verdict = composite.build(orders, "order", (1.0, 1.0), notes, score, request.threshold,
                            passed, any(o.unstable for o in orders), request.criterion,
                            request.output, latency_s, composite.NO_EXTRA)
    # The reason shown argues for the side the candidate's verdict came down on.
    side = orders[0] if first >= 0.5 or result == "WORSE" else orders[1]
    return dataclasses.replace(verdict, answer=result, reasoning=side.reasoning,
                               reference=orders[1].output)  # order 2 shows it as A


def _identical(judge: Judge, request: JudgeRequest, accept: Sequence[str]) -> Verdict:
    return Verdict(
        passed="TIE" in accept and request.threshold <= 0.5,
        score=0.5,
        threshold=request.threshold,
        answer="TIE",
        reasoning="the candidate and the reference are the same text",
        criterion=request.criterion,
        output=request.output,
        judge_id=judge.backend.judge_id,
        prompt_version="",
        prompt_tokens=0,
        completion_tokens=0,
        latency_s=0.0,
        attempts=0,
        strategy="none",
        part_kind="order",
        notes=("identical outputs: a tie, decided without calling the judge",),
        reference=request.output,
    )


@dataclass(frozen=True)
class Ranking:
    """Outputs ranked by debiased pairwise comparisons (every pair, both orders)."""

    outputs: tuple[str, ...]
    scores: tuple[float, ...]  # per output, in input order: mean P(better) over its pairs
    order: tuple[int, ...]  # indexes of ``outputs``, best first
    comparisons: tuple[tuple[int, int, Verdict], ...]  # (i, j, verdict of i against j)


def rank(judge: Judge, requests: Sequence[JudgeRequest]) -> Ranking:
    """A round robin over ``requests`` (one per output, same criteria): each pair is
    compared in both orders, all calls concurrently where the backend allows."""
    if len(requests) < 2:
        raise JudgeConfigError(
            f"rank() needs at least 2 outputs to compare, got {len(requests)}")
    pairs = list(itertools.combinations(range(len(requests)), 2))
    same = {(i, j) for i, j in pairs
            if requests[i].output.strip() == requests[j].output.strip()}
    judged = [(i, j) for i, j in pairs if (i, j) not in same]
    calls = [r for i, j in judged for r in order_requests(requests[i], requests[j].output)]
    started = time.perf_counter()
    verdicts = evaluate_many(judge, calls)
    latency = time.perf_counter() - started
    results: dict[tuple[int, int], Verdict] = {}
    for index, (i, j) in enumerate(judged):
        results[(i, j)] = combine_orders(requests[i], verdicts[2 * index: 2 * index + 2],
                                         OUTCOMES, latency)
    for i, j in same:
        results[(i, j)] = _identical(judge, requests[i], OUTCOMES)
    totals = [0.0] * len(requests)
    for (i, j), verdict in results.items():
        totals[i] += verdict.score
        totals[j] += 1.0 - verdict.score
    scores = tuple(t / (len(requests) - 1) for t in totals)
    order = tuple(sorted(range(len(requests)), key=lambda k: -scores[k]))
    return Ranking(tuple(r.output for r in requests), scores, order,
                   tuple((i, j, results[(i, j)]) for i, j in pairs))
