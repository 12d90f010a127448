"""The judge: turns a JudgeRequest into a Verdict through a backend.

It owns the prompt, the retry policy for replies that fail the schema, and the
scoring rule. It knows nothing about pytest.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from .backends.base import Backend, Completion, CompletionRequest
from .errors import JudgeConfigError, JudgeReplyError
from .prompts import load, untrusted_tag
from .schema import VERDICT_REPLY, JudgeReply, parse_reply
from .settings import Settings, parse_threshold
from .verdict import JudgeRequest, Verdict

PROMPT = "criterion.v1"
# A retry at temperature 0 would repeat the same reply; retries sample instead,
# with seeds derived from the configured one so reruns stay reproducible.
RETRY_TEMPERATURE = 0.7


def make_request(output: object, criterion: object, threshold: object | None,
                 default_threshold: float) -> JudgeRequest:
    """Check the arguments of a judged assertion; bad ones are errors, never verdicts."""
    if not isinstance(output, str):
        raise JudgeConfigError(
            f"the output to judge must be a str, got {type(output).__name__}; "
            "convert it (or pick the text field) before judging"
        )
    if not output.strip():
        raise JudgeConfigError(
            "the output to judge is empty; an empty reply cannot be graded. If an empty "
            "reply is the bug you want to catch, assert it is non-empty first"
        )
    if not isinstance(criterion, str) or not criterion.strip():
        raise JudgeConfigError(
            f"the criterion must be a non-empty str, got {criterion!r}; "
            "write what the output should do, e.g. 'The reply is polite'"
        )
    value = default_threshold if threshold is None else parse_threshold(threshold)
    return JudgeRequest(output=output, criterion=criterion.strip(), threshold=value)


class Judge:
    def __init__(self, backend: Backend, settings: Settings) -> None:
        self.backend = backend
        self.settings = settings
        self.template = load(PROMPT)

    def evaluate(self, request: JudgeRequest) -> Verdict:
        from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

        # The output is shown as a JSON string literal: newlines, quotes and anything that
        # imitates the prompt's structure stay visibly inside one quoted value. Measured
        # on the hand-written cases, this cut the pull of injected "answer YES" text.
        shown = json.dumps(request.output, ensure_ascii=False)
        messages = self.template.render(criterion=request.criterion, output=shown,
                                        tag=untrusted_tag(request.output))
        started = time.perf_counter()
        attempts = 0
        completion: Completion | None = None
        reply: JudgeReply | None = None
        retrying = Retrying(
            stop=stop_after_attempt(1 + self.settings.retries),
            retry=retry_if_exception_type(JudgeReplyError),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    first = attempts == 1
                    completion = self.backend.complete(CompletionRequest(
                        messages=messages,
                        reply=VERDICT_REPLY,
                        untrusted=(shown,),
                        temperature=0.0 if first else RETRY_TEMPERATURE,
                        seed=self.settings.seed + attempts - 1,
                        max_tokens=self.settings.max_tokens,
                        timeout=self.settings.timeout,
                    ))
                    reply = parse_reply(completion.text)
        except JudgeReplyError as err:
            raise JudgeReplyError(
                f"{err} (after {attempts} attempts with {self.backend.judge_id}). "
                "Raise llmjudge_max_tokens or llmjudge_retries, or use a larger judge model"
            ) from None
        assert completion is not None and reply is not None
        score = _score(reply, completion)
        return Verdict(
            passed=score >= request.threshold,
            score=score,
            threshold=request.threshold,
            answer=reply.answer,
            reasoning=reply.reason,
            criterion=request.criterion,
            output=request.output,
            judge_id=self.backend.judge_id,
            prompt_version=self.template.version,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            latency_s=time.perf_counter() - started,
            attempts=attempts,
            cost_usd=completion.cost_usd,
        )


def evaluate_many(judge: Judge, requests: Sequence[JudgeRequest]) -> list[Verdict]:
    """Judge independent requests concurrently, up to ``llmjudge_concurrency`` at a time,
    in order. A remote backend serves them in parallel; a local model takes them in turn.
    The first judge error is raised once all calls have ended."""
    from concurrent.futures import ThreadPoolExecutor

    if len(requests) <= 1 or judge.settings.concurrency == 1:
        return [judge.evaluate(r) for r in requests]
    workers = min(judge.settings.concurrency, len(requests))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llmjudge") as pool:
        futures = [pool.submit(judge.evaluate, r) for r in requests]
    return [f.result() for f in futures]


def _score(reply: JudgeReply, completion: Completion) -> float:
    """P(YES) where the backend saw the probabilities; otherwise the hard answer."""
    probs = completion.choice_probs.get("answer")
    if probs:
        return float(probs["YES"])
    return 1.0 if reply.answer == "YES" else 0.0
