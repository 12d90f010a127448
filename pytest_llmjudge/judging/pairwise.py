"""Pairwise comparison: is a candidate output better than a reference, by the criteria?

Small judges prefer a position far more than they prefer an answer (measured: the
preferred position flipped with the order in 94% of pairs), so every comparison is
judged twice, candidate first (as A) and candidate second (as B). Each order scores
P(A) under the request's strategy (P(A) from the logits, or the share of polled A
votes); seen from the candidate, the scores are P(A) and 1 - P(A).

With ``llmjudge_pairwise = signals`` (the default) each output is also judged alone,
P(YES) to the criteria with the instruction shown, which a small judge does better
than comparing two texts in one prompt (benchmarks/quality.py, LLMBar). The four
signals are combined into P(candidate better):

- by the fitted pairwise head (calibration/heads.py) for this judge and prompts, where
  one matches and the strategy is logprob: a logistic regression over the orders' and
  the alone scores' logits, with the tie margin fitted with it;
- else by the unfitted rule: the mean of the orders' score and the alone scores'
  difference, each a probability (any strategy, any judge), with DEFAULT_MARGIN.

The verdict is BETTER above 0.5 + margin, WORSE below 0.5 - margin, and a TIE between:
a tie means the judge cannot tell. With ``orders`` only the two orders are asked, and
the verdict is BETTER or WORSE only when both orders agree, a TIE when the preference
follows the position.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import JudgeConfigError
from . import composite
from .judge import Judge, evaluate_many
from .strategies import unexplained, with_shown_reason
from .verdict import JudgeRequest, Verdict

if TYPE_CHECKING:
    from ..calibration.heads import Head

OUTCOMES = ("BETTER", "TIE", "WORSE")
EVEN = 0.5  # P(A) of an order with no preference
# The unfitted rule's tie band, P(candidate better) within this of 0.5: chosen as a
# fitted head's margin is (calibration/pairwise_fit.py) on the fitted half of LLMBar
# with the default judge (benchmarks/quality.py pairs), where no band within 40% ties
# reached 70% decided, so the 40% band was kept. For another judge it is a starting
# point; fitting a pairwise head (calibrate --llmjudge-fit-head on pairwise labels)
# replaces it.
DEFAULT_MARGIN = 0.02


@dataclass(frozen=True)
class Signals:
    """What one comparison shows, each as P(candidate better) or P(YES)."""

    first: float  # P(candidate better), the candidate shown first (as A)
    second: float  # the same, the candidate shown second (as B)
    candidate: float | None = None  # P(YES) of the candidate judged alone
    reference: float | None = None  # P(YES) of the reference judged alone

    @property
    def orders(self) -> float:
        return (self.first + self.second) / 2

    @property
    def alone(self) -> float | None:
        """The alone scores as P(candidate better): 0.5 plus half their difference."""
        if self.candidate is None or self.reference is None:
            return None
        return (1.0 + self.candidate - self.reference) / 2

    def features(self) -> tuple[float, float]:
        """A pairwise head's inputs: both change sign when the outputs swap."""
        from ..calibration.heads import logit

        assert self.candidate is not None and self.reference is not None
        return (logit(self.first) + logit(self.second),
                logit(self.candidate) - logit(self.reference))


def order_requests(request: JudgeRequest, reference: str) -> list[JudgeRequest]:
    """The comparison as two requests: candidate as A, then candidate as B. Each order
    is decided at 0.5 (which position it prefers), whatever the comparison's own
    threshold, so a polled order keeps polling while its preference is unsettled."""
    inputs = tuple(i for i in request.inputs if i[0] != "response_b")
    ordered = dataclasses.replace(unexplained(request), threshold=EVEN, threshold_given=True)
    return [dataclasses.replace(ordered, inputs=(*inputs, ("response_b", reference))),
            dataclasses.replace(ordered, output=reference,
                                inputs=(*inputs, ("response_b", request.output)))]


def alone_request(request: JudgeRequest, output: str) -> JudgeRequest:
    """One output judged on its own: does it meet the criteria, for the instruction?
    The checklist prompt asks it (task "side": no fitted threshold or checklist head
    applies, so the score is the P(YES) a pairwise head was fitted on)."""
    inputs = tuple(i for i in request.inputs if i[0] == "instruction")
    return dataclasses.replace(unexplained(request), output=output, task="side",
                               inputs=inputs, threshold=EVEN, threshold_given=True)


def outcome(first: float, second: float) -> str:
    """BETTER/WORSE when both orders agree on the candidate's side of 0.5, else TIE."""
    if first > 0.5 and second > 0.5:
        return "BETTER"
    if first < 0.5 and second < 0.5:
        return "WORSE"
    return "TIE"


def banded(score: float, margin: float) -> str:
    """BETTER above 0.5 + margin, WORSE below 0.5 - margin, else TIE."""
    if score > EVEN + margin:
        return "BETTER"
    if score < EVEN - margin:
        return "WORSE"
    return "TIE"


def requests_for(judge: Judge, request: JudgeRequest, reference: str) -> list[JudgeRequest]:
    """Every call one comparison makes: both orders, then (signals) each output alone."""
    calls = order_requests(request, reference)
    if judge.settings.pairwise == "signals":
        calls += [alone_request(request, request.output), alone_request(request, reference)]
    return calls


def compare(judge: Judge, request: JudgeRequest, reference: str,
            accept: Sequence[str], *, every_signal: bool = False) -> Verdict:
    """The verdict on ``request.output`` (the candidate) against ``reference``. It passes
    when its outcome is in ``accept`` and its score reaches ``request.threshold``.
    Where the fitted head gives the orders no weight, only the two alone calls are made
    (``every_signal``: all four anyway, as fitting a head needs)."""
    started = time.perf_counter()
    if request.output.strip() == reference.strip():
        return _identical(judge, request, accept)
    head = None if every_signal else head_ahead(judge, request, reference)
    if head is not None and head.weights[0] == 0.0:
        sides = [alone_request(request, request.output), alone_request(request, reference)]
        verdicts = evaluate_many(judge, sides)
        if all(v.strategy == "logprob" for v in verdicts):
            return with_shown_reason(judge, combine_alone(
                request, verdicts, head, accept, time.perf_counter() - started), sides,
                request.policy.reasons)
        # P(YES) was not read after all (a server that sent no logprobs): ask the orders
        # too, and combine by the unfitted rule (the alone calls replay from the cache).
    calls = requests_for(judge, request, reference)
    verdicts = evaluate_many(judge, calls)
    return with_shown_reason(judge, combine(judge, request, calls, verdicts, accept,
                                            time.perf_counter() - started), calls,
                             request.policy.reasons)


def head_ahead(judge: Judge, request: JudgeRequest, reference: str) -> Head | None:
    """The pairwise head that will score this comparison, known before any call: signals
    mode, one judge (not a panel) and strategy logprob."""
    from .strategies import resolve

    if (judge.settings.pairwise != "signals" or judge.panel
            or resolve(judge, request.policy.strategy) != "logprob"):
        return None
    return judge.pairwise_head(order_requests(request, reference)[0],
                               alone_request(request, request.output))


def combine(judge: Judge, request: JudgeRequest, calls: Sequence[JudgeRequest],
            verdicts: Sequence[Verdict], accept: Sequence[str], latency_s: float) -> Verdict:
    """The comparison's verdict from its calls' verdicts (requests_for's order)."""
    if len(verdicts) == 2:
        return combine_orders(request, verdicts, accept, latency_s)
    signals = Signals(verdicts[0].score, 1.0 - verdicts[1].score,
                      verdicts[2].score, verdicts[3].score)
    head = None
    # A head's weights are for one judge's logits: a panel's verdicts (made of members)
    # are means of several, so the unfitted rule combines those.
    if not judge.panel and all(v.strategy == "logprob" for v in verdicts):
        head = judge.pairwise_head(calls[0], calls[2])
    return combine_signals(request, verdicts, signals, head, accept, latency_s)


def combine_signals(request: JudgeRequest, parts: Sequence[Verdict], signals: Signals,
                    head: Head | None, accept: Sequence[str], latency_s: float) -> Verdict:
    alone = signals.alone
    assert alone is not None
    if head is not None:
        score, margin = head.score_pair(signals.features()), head.margin
        source = _head_source(head)
    else:
        score, margin = (signals.orders + alone) / 2, DEFAULT_MARGIN
        source = ("the unfitted rule: the mean of the orders' P(candidate better) and the "
                  f"alone scores' (1 + P(YES) candidate - P(YES) reference) / 2; a tie "
                  f"within {margin:.3f} of 0.5 (no fitted pairwise head for this judge)")
    result = banded(score, margin)
    passed = result in accept and score >= request.threshold
    notes = [
        f"P(candidate better) {score:.3f}: {result} (a tie within {margin:.3f} of 0.5); "
        f"decided by {_decider(signals, score, margin)}",
        f"orders: P(candidate better) {signals.first:.3f} shown first, {signals.second:.3f} "
        "shown second",
        f"alone: P(YES) {signals.candidate:.3f} for the candidate, {signals.reference:.3f} "
        "for the reference",
    ]
    verdict = composite.build(parts, "order", (1.0,) * len(parts), notes, score,
                              request.threshold, passed, any(p.unstable for p in parts),
                              request.criterion, request.output, latency_s,
                              composite.NO_EXTRA)
    # The reason shown: an order that sided with the verdict, else the alone judgment of
    # the output the verdict favours.
    favoured = score >= EVEN
    sided = [p for p, s in ((parts[0], signals.first), (parts[1], signals.second))
             if (s >= EVEN) == favoured] + [parts[2 if favoured else 3]]
    shown = next((p for p in sided if p.reasoned), sided[0])
    return dataclasses.replace(verdict, answer=result, reasoning=shown.reasoning,
                               reasoned=shown.reasoned, reference=parts[1].output,
                               score_source=source)


def combine_alone(request: JudgeRequest, parts: Sequence[Verdict], head: Head,
                  accept: Sequence[str], latency_s: float) -> Verdict:
    """The verdict from the two alone judgments, for a head that gives the orders no
    weight (so they were not asked)."""
    candidate, reference = parts[0].score, parts[1].score
    score = head.score_pair(Signals(EVEN, EVEN, candidate, reference).features())
    result = banded(score, head.margin)
    passed = result in accept and score >= request.threshold
    decided = ("neither side (inside the tie band)" if result == "TIE" else
               "the alone scores")
    notes = [
        f"P(candidate better) {score:.3f}: {result} (a tie within {head.margin:.3f} of "
        f"0.5); decided by {decided}",
        "orders: not asked (the fitted head gives them no weight)",
        f"alone: P(YES) {candidate:.3f} for the candidate, {reference:.3f} for the reference",
    ]
    verdict = composite.build(parts, "alone", (1.0, 1.0), notes, score, request.threshold,
                              passed, any(p.unstable for p in parts), request.criterion,
                              request.output, latency_s, composite.NO_EXTRA)
    shown = parts[0 if score >= EVEN else 1]
    return dataclasses.replace(verdict, answer=result, reasoning=shown.reasoning,
                               reasoned=shown.reasoned, reference=parts[1].output,
                               score_source=_head_source(head))


def _head_source(head: Head) -> str:
    """Where a head-scored comparison's score came from, for the reports."""
    return (f"{head.describe()}: weights {head.weights[0]:.3g} on the orders' logits, "
            f"{head.weights[1]:.3g} on the alone scores' logits; a tie within "
            f"{head.margin:.3f} of 0.5")


def _decider(signals: Signals, score: float, margin: float) -> str:
    """Which signals sided with the outcome, in words."""
    alone = signals.alone
    assert alone is not None
    if abs(score - EVEN) <= margin:
        return "neither side (inside the tie band)"
    favoured = score > EVEN
    sides = {"the first order": signals.first, "the second order": signals.second,
             "the alone scores": alone}
    agree = [name for name, value in sides.items() if (value > EVEN) == favoured
             and value != EVEN]
    against = [name for name in sides if name not in agree]
    return (" and ".join(agree) or "no single signal") + (
        f" (against: {' and '.join(against)})" if against else " (all agree)")


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
                               reasoned=side.reasoned,
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
    compared in both orders (and, with signals, each output judged alone once; only
    that, where the fitted head gives the orders no weight), all calls concurrently
    where the backend allows."""
    if len(requests) < 2:
        raise JudgeConfigError(
            f"rank() needs at least 2 outputs to compare, got {len(requests)}")
    pairs = list(itertools.combinations(range(len(requests)), 2))
    same = {(i, j) for i, j in pairs
            if requests[i].output.strip() == requests[j].output.strip()}
    judged = [(i, j) for i, j in pairs if (i, j) not in same]
    started = time.perf_counter()
    results: dict[tuple[int, int], Verdict] = {}
    signals = judge.settings.pairwise == "signals"
    # Each output is judged alone once, not once per pair.
    alone_calls = [alone_request(r, r.output) for r in requests] if signals else []
    head = head_ahead(judge, requests[0], requests[1].output) if judged else None
    alone: list[Verdict] = []
    if head is not None and head.weights[0] == 0.0:
        # The head gives the orders no weight: the alone calls decide every pair.
        alone = evaluate_many(judge, alone_calls)
        if all(v.strategy == "logprob" for v in alone):
            latency = time.perf_counter() - started
            for i, j in judged:
                results[(i, j)] = combine_alone(requests[i], [alone[i], alone[j]], head,
                                                OUTCOMES, latency)
    if len(results) < len(judged):
        order_calls = [r for i, j in judged for r in order_requests(requests[i],
                                                                     requests[j].output)]
        verdicts = evaluate_many(judge, order_calls + alone_calls)
        latency = time.perf_counter() - started
        alone = verdicts[len(order_calls):]
        for index, (i, j) in enumerate(judged):
            own = slice(2 * index, 2 * index + 2)
            extra = [i, j] if alone_calls else []
            results[(i, j)] = combine(judge, requests[i],
                                      [*order_calls[own], *(alone_calls[k] for k in extra)],
                                      [*verdicts[own], *(alone[k] for k in extra)],
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
