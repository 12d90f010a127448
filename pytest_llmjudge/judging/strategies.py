"""Scoring strategies: how many votes make a verdict, and how they combine.

- ``single``: one call at temperature 0; the score is its hard answer (1 or 0).
- ``logprob``: one forward pass; the score is P(YES) at the answer position.
- ``chainpoll``: chain-of-thought polls, each a sampled YES/NO vote; the score is
  the fraction of YES votes.
- ``weighted``: the same chain-of-thought polls, each scored by its P(YES) instead of
  its hard vote; the score is their mean.

Polling strategies draw ``min_polls`` polls, then one at a time until the Wilson
interval of the score clears the threshold or ``polls`` is reached; a verdict that
still straddles the threshold then is UNSTABLE (policy.py has the rule).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import LogprobsUnavailableError
from .policy import NEEDS_LOGPROBS, POLLING, REASON_MARGIN, default_strategy, settle
from .reply_formats import choice_value
from .verdict import JudgeRequest, Verdict, Vote

if TYPE_CHECKING:
    from .judge import Judge


def resolve(judge: Judge, strategy: str) -> str:
    """``auto`` made concrete for this backend; a probability strategy on a backend
    that declares it has none is refused before any call."""
    if strategy == "auto":
        return default_strategy(judge.supports_logprobs)
    if strategy in NEEDS_LOGPROBS and not judge.supports_logprobs:
        raise LogprobsUnavailableError.for_strategy(judge.backend.judge_id, strategy)
    return strategy


def run(judge: Judge, request: JudgeRequest) -> Verdict:
    try:
        return _run(judge, request)
    except LogprobsUnavailableError:
        # 'auto' promised P(YES) from a server that then sent none: it polls instead,
        # as 'auto' does on any judge without probabilities. An explicit strategy that
        # needs them stays an error.
        if request.policy.strategy != "auto":
            raise
        if judge.note_logprobs_missing():
            warnings.warn(LogprobsMissingWarning(
                f"llmjudge: {judge.backend.judge_id} returned no log-probabilities, so "
                "strategy 'auto' scores by chainpoll votes for the rest of this run; set "
                "llmjudge_api_logprobs=false to say so up front (and skip the wasted call)"),
                stacklevel=2)
        return _run(judge, request)


class LogprobsMissingWarning(UserWarning):
    """Strategy 'auto' met a judge whose replies carry no log-probabilities."""


def _run(judge: Judge, request: JudgeRequest) -> Verdict:
    started = time.perf_counter()
    strategy = resolve(judge, request.policy.strategy)
    # A head reads the hidden state of the one forward pass that gives P(YES).
    head = judge.head_for(request, "direct") if strategy == "logprob" else None
    if head is None:
        # Fitted thresholds are fitted on P(YES); a head's score is already a probability
        # fitted on labels, so it is held to the test's (or the default) threshold.
        request = judge.calibrated(request, "cot" if strategy in POLLING else "direct")
    if strategy in POLLING:
        verdict = _polled(judge, request, strategy)
    else:
        vote = judge.poll(request, mode="direct", index=0, sampled=False,
                          need_probs=strategy == "logprob", strategy=strategy, head=head)
        verdict = _verdict(judge, request, strategy, "direct", (vote,), vote.score, None)
        if head is not None:
            verdict = dataclasses.replace(verdict, score_source=(
                f"{head.describe()}; P(YES) {vote.p_yes:.3f}"))
        verdict = with_reason(judge, request, verdict)
    return dataclasses.replace(verdict, latency_s=time.perf_counter() - started)


def wants_reason(verdict: Verdict, reasons: str) -> bool:
    """Whether ``llmjudge_reasons`` asks for this verdict's reason: always (all), never
    (none), or (failures) for a failure, an UNSTABLE verdict, or a pass within
    REASON_MARGIN of its threshold, which the next run may flip."""
    if reasons == "all":
        return True
    if reasons == "none" or verdict.dry_run:
        return False
    return (not verdict.passed or verdict.unstable
            or verdict.score - verdict.threshold < REASON_MARGIN)


def unwritten(passed: bool, score: float, threshold: float, reasons: str) -> str:
    """What a verdict whose reason was not written shows instead, never ""."""
    return (f"reason not generated: {'passed' if passed else 'failed'} at {score:.2f}, "
            f"threshold {threshold:.2f} (llmjudge_reasons={reasons})")


def with_reason(judge: Judge, request: JudgeRequest, verdict: Verdict) -> Verdict:
    """A one-pass verdict with the judge's reason written where ``request``'s policy
    wants one. The verdict stands either way: a reason that cannot be had (record mode
    none with no recorded reason, a spent budget, a reply that does not fit) leaves a
    note saying why, and the cache's notes list it."""
    if verdict.reasoned or not verdict.votes or not wants_reason(verdict,
                                                                 request.policy.reasons):
        return verdict
    from ..errors import JudgeError

    try:
        explained = judge.explain(request, verdict.votes[0])
    except JudgeError as err:
        why = (f"reason not generated: the verdict ({verdict.outcome} at "
               f"{verdict.score:.2f}) needed one, and asking for it failed: {err}")
        judge.replayer.note(why)
        return dataclasses.replace(verdict, reasoning=why)
    # A one-pass verdict is its one vote: its totals are the explained vote's.
    return dataclasses.replace(
        verdict, votes=(explained,), reasoning=explained.reason, reasoned=True,
        prompt_tokens=explained.prompt_tokens, completion_tokens=explained.completion_tokens,
        attempts=explained.attempts, cost_usd=explained.cost_usd,
        cached=verdict.cached and explained.cached)


def unexplained(request: JudgeRequest) -> JudgeRequest:
    """A part of a combined verdict, asked without a reason: its own pass or fail says
    nothing about the combined verdict's (an order of a comparison that prefers B may
    be the candidate winning), so ``with_shown_reason`` decides instead."""
    return dataclasses.replace(request, policy=dataclasses.replace(request.policy,
                                                                   reasons="none"))


def with_shown_reason(judge: Judge, verdict: Verdict, calls: Sequence[JudgeRequest],
                      reasons: str) -> Verdict:
    """A combined verdict (a comparison, a question asked both ways) shows the reason of
    one of its parts, ``calls[i]``'s verdict, asked ``unexplained``. Where the combined
    verdict wants a reason under ``reasons``, the part it shows is explained now."""
    if verdict.reasoned or not calls:
        return verdict
    if not wants_reason(verdict, reasons):
        # Its parts were asked without reasons: the note speaks of the combined verdict.
        return dataclasses.replace(verdict, reasoning=unwritten(
            verdict.passed, verdict.score, verdict.threshold, reasons))
    index = next((i for i, part in enumerate(verdict.parts)
                  if not part.reasoned and part.reasoning == verdict.reasoning), None)
    if index is None or index >= len(calls):
        return verdict
    request = calls[index]
    old = verdict.parts[index]
    part = with_reason(judge, dataclasses.replace(
        request, policy=dataclasses.replace(request.policy, reasons="all")), old)
    parts = (*verdict.parts[:index], part, *verdict.parts[index + 1:])
    costs = [c for c in (verdict.cost_usd, part.cost_usd) if c is not None]
    return dataclasses.replace(
        verdict, parts=parts, reasoning=part.reasoning, reasoned=part.reasoned,
        prompt_tokens=verdict.prompt_tokens + part.prompt_tokens - old.prompt_tokens,
        completion_tokens=(verdict.completion_tokens + part.completion_tokens
                           - old.completion_tokens),
        attempts=verdict.attempts + part.attempts - old.attempts,
        cost_usd=sum(costs) - (old.cost_usd or 0.0) if costs else None,
        cached=verdict.cached and part.cached)


def verdict_of(judge: Judge, request: JudgeRequest, strategy: str, vote: Vote) -> Verdict:
    """The verdict of one direct vote (a calibration run that also fits heads)."""
    return _verdict(judge, request, strategy, "direct", (vote,), vote.score, None)


def _polled(judge: Judge, request: JudgeRequest, strategy: str) -> Verdict:
    policy = request.policy
    need_probs = strategy == "weighted"
    votes: list[Vote] = []
    batch = policy.min_polls
    while True:
        votes += _draw(judge, request, range(len(votes), len(votes) + batch), need_probs)
        decision = settle([v.score for v in votes], request.threshold, policy.confidence)
        if decision.settled or len(votes) >= policy.polls:
            break
        batch = 1  # widen one poll at a time: each extra call is paid for
    return _verdict(judge, request, strategy, "cot", tuple(votes), decision.score,
                    (decision.low, decision.high), unstable=not decision.settled)


def _draw(judge: Judge, request: JudgeRequest, indexes: range, need_probs: bool) -> list[Vote]:
    """Polls ``indexes``, concurrently up to llmjudge_concurrency (a remote judge serves
    them in parallel; a local model takes them in turn). Each poll's seed depends only
    on its index, so the votes do not depend on the order the calls finish in."""
    def one(index: int) -> Vote:
        return judge.poll(request, mode="cot", index=index, sampled=True,
                          need_probs=need_probs, strategy="weighted" if need_probs else "")

    workers = min(judge.parallel, len(indexes))
    if workers <= 1:
        return [one(i) for i in indexes]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llmjudge-poll") as pool:
        futures = [pool.submit(one, i) for i in indexes]
    return [f.result() for f in futures]


def _verdict(judge: Judge, request: JudgeRequest, strategy: str, mode: str,
             votes: Sequence[Vote], score: float, interval: tuple[float, float] | None,
             unstable: bool = False) -> Verdict:
    passed = score >= request.threshold
    # A vote agrees with the verdict when its own written answer lands on the same side.
    agrees = [v for v in votes
              if (choice_value(v.answer, request.scale) >= request.threshold) == passed]
    # The reason shown is one that argues for the verdict's side, if any vote does.
    reason = (agrees or list(votes))[0].reason
    counts = Counter(v.answer for v in votes).most_common()
    tied = [answer for answer, n in counts if n == counts[0][1]]
    majority = tied[0] if len(tied) == 1 else (agrees or list(votes))[0].answer
    costs = [v.cost_usd for v in votes if v.cost_usd is not None]
    return Verdict(
        passed=passed,
        score=score,
        threshold=request.threshold,
        answer=majority,
        reasoning=reason or unwritten(passed, score, request.threshold,
                                      request.policy.reasons),
        reasoned=bool(reason),
        criterion=request.criterion,
        output=request.output,
        judge_id=judge.backend.judge_id,
        prompt_version=judge.prompt_version(request, mode),
        prompt_tokens=sum(v.prompt_tokens for v in votes),
        completion_tokens=sum(v.completion_tokens for v in votes),
        latency_s=0.0,  # set by run(): wall time, polls may overlap
        attempts=sum(v.attempts for v in votes),
        cost_usd=sum(costs) if costs else None,
        strategy=strategy,
        votes=tuple(votes),
        interval=interval,
        confidence=request.policy.confidence if interval is not None else None,
        unstable=unstable,
        scale=request.scale,
        threshold_source=request.threshold_source,
        cached=all(v.cached for v in votes),
        dry_run=any(v.dry_run for v in votes),
    )
