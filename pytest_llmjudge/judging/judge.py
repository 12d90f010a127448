"""The judge: renders a request's prompt and turns one backend call into one Vote.

It owns the prompts, the retry policy for replies that fail the schema, and the
seeds. How many votes make a verdict is the strategy's business (strategies.py).
It knows nothing about pytest.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from ..backends.base import (
    Backend,
    ChoiceField,
    Completion,
    CompletionRequest,
    Message,
    ReplySpec,
)
from ..calibration.thresholds_file import KIND_OF_TASK, Calibration
from ..config.settings import Settings
from ..errors import (
    BackendUnavailableError,
    JudgeError,
    JudgeReplyError,
    JudgeTimeoutError,
    LogprobsUnavailableError,
)
from ..storage.record_modes import Replayer
from . import strategies
from .asked import asked_json
from .policy import poll_seed
from .prompts import PromptTemplate, load, untrusted_tag
from .reply_formats import JudgeReply, choice_value, explaining, parse_reply, reply_spec
from .verdict import JudgeRequest, Verdict, Vote

if TYPE_CHECKING:  # sqlite3 loads with the first judge call
    from ..calibration.heads import Head
    from ..storage.cache import Entry

# How far a reply's choice probabilities may add up away from 1 (rounding).
PROBABILITY_SLACK = 1e-6

TASK_PROMPTS = {"criterion": "criterion.v1", "grounded": "grounded.v1", "correct": "correct.v1",
                "checklist": "checklist.v1", "claim": "claim.v1",
                "abstention": "abstention.v1", "pairwise": "pairwise.v1",
                # One output of a comparison judged alone (judging/pairwise.py).
                "side": "checklist.v1",
                # Conversations and agents (judging/transcripts.py, assertions/agents.py).
                "conversation": "conversation.v1", "conversation_checklist": "conversation.v1",
                "turn": "turn.v1", "retention": "retention.v1", "role": "role.v1",
                "goal": "goal.v1", "trajectory": "trajectory.v1", "argument": "argument.v1"}
# The delimiter tag is a hash of these texts ("output" or an input's name), so no text
# it wraps can contain it. A claim's tag follows its whole response (carried for this,
# not shown), so every claim of one answer shares the prompt up to the claim itself
# and a local model re-reads only that (its KV cache keeps the rest); a comparison's
# follows both responses, either of which could try to close the other's tag.
# Every turn of one conversation shares a tag (the whole transcript's, carried, not
# shown), so turn k+1's prompt starts with all of turn k's.
TAG_SOURCE = {"claim": ("response",), "pairwise": ("output", "response_b"),
              "turn": ("transcript",)}
# A retry at temperature 0 would repeat the same reply; retries sample instead,
# with seeds derived from the configured one so reruns stay reproducible.
RETRY_TEMPERATURE = 0.7
# Polls sample their reasoning and their vote at this temperature (ChainPoll draws
# diverse chains; at 0 every poll would be the same poll).
POLL_TEMPERATURE = 0.7
T = TypeVar("T")


class Judge:
    # A panel's verdicts are made of several judges' (judging/panel.py): no one judge's
    # fitted head applies to them.
    panel = False

    def __init__(self, backend: Backend, settings: Settings,
                 replayer: Replayer | None = None,
                 calibration: Calibration | None = None, role: str = "") -> None:
        self.backend = backend
        self.settings = settings
        # A panel member's role (judging/panel.py ROLES): one more instruction in the
        # system prompt. "" for a plain judge.
        self.role = role
        # Fitted thresholds for requests whose threshold yields to them
        # (calibration/thresholds_file.py; the order is config/thresholds.py).
        self.calibration = calibration
        # Cache, record mode, budget and dry run; without one, every call is made.
        self.replayer = replayer or Replayer(settings.with_record_mode("off"))
        # One cap on calls in flight, however they nest (a batch of polled verdicts). A
        # backend that serves one call at a time (a local model) says so, and its calls
        # are then made in turn instead of queueing threads on its lock.
        self.parallel = max(1, min(settings.concurrency,
                                   getattr(backend, "max_parallel_calls", settings.concurrency)))
        self._slots = threading.BoundedSemaphore(self.parallel)
        self.logprobs_missing = False  # learnt from a reply (note_logprobs_missing)
        self._missing_lock = threading.Lock()

    @property
    def supports_logprobs(self) -> bool:
        """Whether the backend can show P(YES). A backend plugin that does not say is
        taken to have none, so strategy 'auto' polls votes from it."""
        return not self.logprobs_missing and bool(
            getattr(self.backend, "supports_logprobs", False))

    def note_logprobs_missing(self) -> bool:
        """A reply came without the log-probabilities the backend promised: strategy
        'auto' polls instead for the rest of the session. True the first time."""
        with self._missing_lock:
            first, self.logprobs_missing = not self.logprobs_missing, True
        return first

    def evaluate(self, request: JudgeRequest) -> Verdict:
        return strategies.run(self, request)

    def calibrated(self, request: JudgeRequest, mode: str) -> JudgeRequest:
        """``request`` with the calibrated threshold for this judge, prompt and kind, when
        it gave no threshold of its own and the calibration file has one."""
        kind = KIND_OF_TASK.get(request.task)
        if self.calibration is None or request.threshold_given or kind is None:
            return request
        prompt = self.prompt_version(request, mode)
        entry, others = self.calibration.find(self.backend.judge_id, prompt, kind)
        if entry is None:
            for other in others:
                self.replayer.note(
                    f"calibration file {self.calibration.path} has a {kind} threshold "
                    f"fitted for judge {other.judge} with prompt {other.prompt}; this run "
                    f"judges with {self.backend.judge_id} and prompt {prompt}, so it is "
                    "ignored (fit it again for this judge)")
            return request
        return dataclasses.replace(
            request, threshold=entry.threshold, threshold_given=True,
            threshold_source=f"calibrated in {self.calibration.path} on {entry.n} labels "
                             f"from {entry.fitted_on} ({entry.objective})")

    def head_for(self, request: JudgeRequest, mode: str) -> Head | None:
        """The fitted head for this judge, prompt and kind, if any. Heads of this kind
        fitted for another judge or prompt are ignored with a note, as thresholds are."""
        kind = KIND_OF_TASK.get(request.task)
        if self.calibration is None or kind is None or request.scale is not None:
            return None
        from ..calibration.heads import FEATURES

        prompt = self.prompt_version(request, mode)
        head, others = self.calibration.find_head(self.backend.judge_id, prompt, kind,
                                                  FEATURES)
        for other in others:
            self.replayer.note(
                f"{other.source} has a {kind} head fitted for judge {other.judge} with "
                f"prompt {other.prompt}; this run judges with {self.backend.judge_id} and "
                f"prompt {prompt}, so it is ignored (fit it again for this judge)")
        return head

    def pairwise_head(self, order: JudgeRequest, alone: JudgeRequest) -> Head | None:
        """The fitted pairwise head for this judge and the two prompts a comparison asks
        (an order, and an output alone), if any; others are ignored with a note."""
        if self.calibration is None:
            return None
        prompt = f"{self.prompt_version(order, 'direct')}+{self.prompt_version(alone, 'direct')}"
        head, others = self.calibration.find_head(self.backend.judge_id, prompt, "pairwise")
        for other in others:
            self.replayer.note(
                f"{other.source} has a pairwise head fitted for judge {other.judge} with "
                f"prompts {other.prompt}; this run judges with {self.backend.judge_id} and "
                f"prompts {prompt}, so it is ignored (fit it again for this judge)")
        return head

    def prompt_version(self, request: JudgeRequest, mode: str) -> str:
        """The prompt's identity: its template version, and the panel role if any (a
        role changes the prompt, so it keys the cache, thresholds and heads apart)."""
        version = self.template(request, mode).version
        return f"{version}+role.{self.role}" if self.role else version

    def template(self, request: JudgeRequest, mode: str) -> PromptTemplate:
        suffix = (" pair" if request.task == "pairwise" else
                  "" if request.scale is None else " scale")
        return load(TASK_PROMPTS[request.task], mode + suffix)

    def render(self, request: JudgeRequest, mode: str, *,
               tags: str | None = None) -> tuple[list[Message], tuple[str, ...]]:
        """The messages, and the untrusted texts inside them. Every text under test is
        shown as a JSON string literal: newlines, quotes and anything that imitates the
        prompt's structure stay visibly inside one quoted value. Measured on the
        hand-written cases, this cut the pull of injected "answer YES" text.

        Each text sits between tags derived from its own hash (``{{tag_NAME}}``), which
        it cannot contain: a text can never close its own section. A tag that depends
        only on its own text keeps every section before the judged text the same from
        call to call (20 answers against one context share the context's tokens, which
        a local model then reads from its KV cache). Templates with one ``{{tag}}`` for
        every section derive it from the judged texts (TAG_SOURCE). ``tags`` sets every
        tag to one value (benchmarks/speed.py lays prompts out as before with it)."""
        laid_out = dict(request.shown)
        shown = {"output": laid_out.get("output") or json.dumps(request.output,
                                                                ensure_ascii=False)}
        for name, text in request.inputs:
            # A missing optional text (no question, no reference) is shown as null.
            shown[name] = (laid_out[name] if name in laid_out else
                           "null" if text is None else json.dumps(text, ensure_ascii=False))
        inputs = dict(request.inputs)
        texts = {**inputs, "output": request.output}
        source = "\x00".join(texts.get(name) or "" for name in
                              TAG_SOURCE.get(request.task, ("output",))) or request.output
        own_tags = {f"tag_{name}": tags or untrusted_tag(texts.get(name) or "")
                    for name in shown}
        messages = self.template(request, mode).render(
            criterion=request.criterion, tag=tags or untrusted_tag(source),
            points=str(request.scale or ""), **shown, **own_tags)
        if self.role:
            messages = with_role(messages, self.role)
        return messages, tuple(v for v in shown.values() if v != "null")

    def poll(self, request: JudgeRequest, *, mode: str, index: int, sampled: bool,
             need_probs: bool, strategy: str = "", head: Head | None = None) -> Vote:
        """One vote: a backend call, validated, retried on a malformed reply. With a
        ``head``, the same call also reads the judge's hidden state, and the head's
        score stands in for P(YES) (which the vote keeps)."""
        vote, hidden = self.observe(request, mode=mode, index=index, sampled=sampled,
                                    need_probs=need_probs, strategy=strategy,
                                    hidden_state=head is not None)
        if head is None:
            return vote
        assert vote.p_yes is not None  # a head scores logprob verdicts only
        return dataclasses.replace(vote, score=head.score(hidden, vote.p_yes))

    def observe(self, request: JudgeRequest, *, mode: str, index: int = 0,
                sampled: bool = False, need_probs: bool = True, strategy: str = "",
                hidden_state: bool = False) -> tuple[Vote, bytes | None]:
        """One vote, and the judge's hidden state at the answer where asked for and the
        backend can show it (what a head is fitted on, and scores)."""
        messages, untrusted = self.render(request, mode)
        # A direct reply stops after its answer: the reason, where one is wanted, is
        # written by ``explain`` (a local model continues the same sequence).
        spec = reply_spec(mode, request.scale, pair=request.task == "pairwise",
                          reason=mode != "direct")
        call = self.call(messages, untrusted, spec, lambda text: parse_reply(text, spec),
                         prompt=self.prompt_version(request, mode), index=index,
                         sampled=sampled, need_probs=need_probs,
                         # Reasoning first needs room before the answer.
                         max_tokens=self.settings.max_tokens * (2 if mode == "cot" else 1),
                         hidden_state=hidden_state,
                         # Kept for an export only: a run that writes none pays nothing.
                         asked=asked_json(request, mode, need_probs)
                         if self.settings.cache_export else None)
        reply: JudgeReply = call.value
        choice = "answer" if request.scale is None else "rating"
        probs = _checked_probs(call.completion.choice_probs.get(choice), spec, choice)
        # P(YES), or the expected rating mapped onto 0..1.
        p_yes = (sum(p * choice_value(c, request.scale) for c, p in probs.items())
                 if probs else None)
        if need_probs and p_yes is None:
            raise LogprobsUnavailableError.for_strategy(
                self.backend.judge_id, strategy or request.policy.strategy)
        hard = choice_value(reply.answer, request.scale)
        return Vote(
            answer=reply.answer,
            score=p_yes if need_probs and p_yes is not None else hard,
            p_yes=p_yes,
            reason=reply.reason,
            seed=call.seed,
            prompt_tokens=call.prompt_tokens,
            completion_tokens=call.completion_tokens,
            latency_s=call.busy_s,
            attempts=call.attempts,
            cost_usd=call.cost_usd,
            cached=call.replayed == call.attempts,
            dry_run=call.dry_run,
        ), call.completion.hidden_state

    def explain(self, request: JudgeRequest, vote: Vote) -> Vote:
        """``vote`` (a direct answer) with the judge's reason for it: the same prompt,
        the reply held to the answer already given, the reason generated after it. A
        local model finds the prompt and the answer in its KV cache and only writes;
        the call is recorded like any other, so a replay replays the reason too."""
        messages, untrusted = self.render(request, "direct")
        spec = explaining(reply_spec("direct", request.scale,
                                     pair=request.task == "pairwise"), vote.answer)
        call = self.call(messages, untrusted, spec, lambda text: parse_reply(text, spec),
                         prompt=self.prompt_version(request, "direct"), index=0,
                         sampled=False, need_probs=False, max_tokens=self.settings.max_tokens,
                         asked=asked_json(request, "direct", False, explains=True)
                         if self.settings.cache_export else None)
        costs = [c for c in (vote.cost_usd, call.cost_usd) if c is not None]
        return dataclasses.replace(
            vote, reason=call.value.reason,
            prompt_tokens=vote.prompt_tokens + call.prompt_tokens,
            completion_tokens=vote.completion_tokens + call.completion_tokens,
            latency_s=vote.latency_s + call.busy_s, attempts=vote.attempts + call.attempts,
            cost_usd=sum(costs) if costs else None,
            cached=vote.cached and call.replayed == call.attempts,
            dry_run=vote.dry_run or call.dry_run)

    def call(self, messages: Sequence[Message], untrusted: tuple[str, ...], spec: ReplySpec,
             validate: Callable[[str], T], *, prompt: str, index: int, sampled: bool,
             need_probs: bool, max_tokens: int, hidden_state: bool = False,
             asked: str | None = None) -> Call[T]:
        """One backend call whose reply ``validate`` accepts, retried (sampling, with
        derived seeds) while it raises JudgeReplyError; the last error is raised.
        ``prompt`` is the template version, part of the cache key. Each attempt goes
        through the replayer: replayed from the cache, made and recorded, or refused.
        ``asked``: the request as an export keeps it for the drift check (asked.py)."""
        busy = [0.0]  # time in backend calls, not waiting for a free slot

        def send(request: CompletionRequest) -> Completion:
            with self._slots:
                started = time.perf_counter()
                try:
                    return self.backend.complete(request)
                except JudgeError:
                    raise
                except Exception as err:
                    # A backend plugin's bug (an IndexError in its parsing) graded nothing:
                    # an ERROR naming the backend, never a FAIL with our traceback.
                    raise BackendUnavailableError(
                        f"judge backend {self.backend.judge_id} "
                        f"({type(self.backend).__module__}.{type(self.backend).__name__}) "
                        f"raised {type(err).__name__}: {str(err)[:300]}; a backend must "
                        "return a Completion or raise a JudgeError. Fix the backend, or "
                        "report it to its authors") from err
                finally:
                    busy[0] += time.perf_counter() - started

        attempts = prompt_tokens = completion_tokens = replayed = 0
        dry_run = False
        costs: list[float] = []
        completion: Completion | None = None
        value: T | None = None
        seed = 0
        # Calls made are recorded once a reply is accepted: the malformed replies of
        # attempts a retry then fixed are kept too (a replay retraces the same attempts),
        # but none of a call that ends in an error.
        pending: list[Entry] = []
        error: JudgeReplyError | None = None
        # A plain loop, not tenacity: nothing waits between attempts, and a replayed
        # verdict passes through here too (tenacity's machinery was a tenth of a replay).
        # One deadline for the call and all its retries: each attempt gets the time left,
        # so a server that keeps answering in the wrong shape cannot hold a test longer
        # than llmjudge_timeout (the backend keeps its own API retries inside it too).
        deadline = time.monotonic() + self.settings.timeout
        for attempts in range(1, 2 + self.settings.retries):
            left = deadline - time.monotonic()
            if left <= 0 and error is not None:
                raise JudgeTimeoutError(
                    f"the judge's replies did not fit the reply format in {attempts - 1} "
                    f"attempt(s), and llmjudge_timeout ({self.settings.timeout:g} s), which "
                    f"bounds a call with its retries, ran out; the last reply: {error}. "
                    "Use a larger judge model, or raise llmjudge_timeout") from None
            seed = poll_seed(self.settings.seed, index, attempts)
            temperature = (POLL_TEMPERATURE if sampled else
                           0.0 if attempts == 1 else RETRY_TEMPERATURE)
            try:
                answer = self.replayer.complete(
                    send, self.backend.judge_id, prompt, CompletionRequest(
                        messages=messages,
                        reply=spec,
                        untrusted=untrusted,
                        temperature=temperature,
                        choice_temperature=POLL_TEMPERATURE if sampled else 0.0,
                        seed=seed,
                        logprobs=need_probs,
                        max_tokens=max_tokens,
                        timeout=max(left, 0.001),
                        hidden_state=hidden_state,
                    ), index, pending, asked)
                completion = answer.completion
                replayed += answer.replayed
                dry_run = dry_run or answer.dry_run
                prompt_tokens += completion.prompt_tokens
                completion_tokens += completion.completion_tokens
                if completion.cost_usd is not None and not answer.replayed:
                    costs.append(completion.cost_usd)  # a replayed call cost nothing
                value = validate(completion.text)
            except JudgeReplyError as err:
                error = err
                continue
            error = None
            break
        if error is not None:
            raise JudgeReplyError(
                f"{error} (after {attempts} attempts with {self.backend.judge_id}). "
                "Raise llmjudge_max_tokens or llmjudge_retries, or use a larger judge model"
            ) from None
        assert completion is not None and value is not None
        self.replayer.keep(pending)
        return Call(value, completion, seed, attempts, prompt_tokens, completion_tokens, busy[0],
                    sum(costs) if costs else None, replayed, dry_run)


def with_role(messages: Sequence[Message], role: str) -> list[Message]:
    """The messages with the role's instruction added to the system prompt."""
    from .roles import ROLES

    out = list(messages)
    text = ROLES[role]
    if out and out[0].role == "system":
        out[0] = Message("system", f"{out[0].content}\n\n{text}")
    else:
        out.insert(0, Message("system", text))
    return out


def _checked_probs(probs: Mapping[str, float] | None, spec: ReplySpec,
                   name: str) -> Mapping[str, float] | None:
    """A reply's choice probabilities, refused where they cannot be scored: a choice the
    reply format does not offer, or a total that is not 1 (both can only come from an
    edited cache or import, never from a backend)."""
    if probs is None:
        return None
    field = next(f for f in spec.fields if isinstance(f, ChoiceField) and f.name == name)
    unknown = sorted(set(probs) - set(field.choices))
    outside = sorted(p for p in probs.values() if not 0.0 <= p <= 1.0)  # NaN too
    total = sum(probs.values())
    if unknown or outside or not abs(total - 1.0) <= PROBABILITY_SLACK:
        why = (f"name choice(s) {unknown} the reply format does not offer "
               f"({', '.join(field.choices)})" if unknown else
               f"hold {outside[0]!r}, not a probability" if outside else
               f"add up to {total!r}, not 1")
        raise JudgeReplyError(
            f"the reply's probabilities for {name!r} {why}; the recorded judgment was "
            "edited or damaged: re-record the test (--llmjudge-record-mode=all)")
    return probs


@dataclass(frozen=True)
class Call(Generic[T]):
    """A validated reply and what it cost, retries included."""

    value: T
    completion: Completion
    seed: int
    attempts: int
    prompt_tokens: int
    completion_tokens: int
    busy_s: float
    cost_usd: float | None  # spent this run: replayed calls cost nothing
    replayed: int = 0  # attempts answered from the cache
    dry_run: bool = False  # a dry run stood a placeholder in for the judge


def evaluate_many(judge: Judge, requests: Sequence[JudgeRequest]) -> list[Verdict]:
    """Judge independent requests concurrently, up to ``llmjudge_concurrency`` at a time,
    in order. A remote backend serves them in parallel; a local model takes them in turn.
    The first judge error is raised once all calls have ended."""
    from concurrent.futures import ThreadPoolExecutor

    if len(requests) <= 1 or judge.parallel == 1:
        return [judge.evaluate(r) for r in requests]
    workers = min(judge.parallel, len(requests))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="llmjudge") as pool:
        futures = [pool.submit(judge.evaluate, r) for r in requests]
    return [f.result() for f in futures]
