"""The values that cross the judge boundary: what was asked, each poll's vote, and
what was decided."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .policy import Policy

EXCERPT_CHARS = 300


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A single-line-friendly excerpt that says how much was cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters]"


@dataclass(frozen=True)
class JudgeRequest:
    """One question to the judge: does ``output`` meet ``criterion``?

    ``task`` picks the prompt (criterion, grounded, correct); ``inputs`` carries the
    task's other texts (context, question, reference), all untrusted data."""

    output: str
    criterion: str
    threshold: float
    task: str = "criterion"
    inputs: tuple[tuple[str, str | None], ...] = ()
    policy: Policy = field(default_factory=Policy)
    scale: int | None = None  # a 1..scale rating instead of a YES/NO answer
    # Whether the caller gave the threshold (a call, a marker); a defaulted one may be
    # replaced by a calibrated one, and then says where it came from.
    threshold_given: bool = True
    threshold_source: str = ""
    # Texts (by name: "output" or an input's) already laid out for the prompt, shown
    # as they are instead of as one JSON string: a conversation, one quoted value a
    # turn (judging/transcripts.py). ``output`` and ``inputs`` keep the canonical form.
    shown: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Vote:
    """One poll: the judge's answer, its score, and the reason it gave."""

    answer: str  # "YES" or "NO" (or the rating written, "1".."scale")
    score: float  # what this poll adds to the verdict: 1/0, or its P(YES)
    # P(YES) at the answer position where the backend showed it; for a rating, the
    # expected rating on the 0..1 score (G-Eval style).
    p_yes: float | None
    reason: str
    seed: int
    prompt_tokens: int
    completion_tokens: int
    latency_s: float  # in backend calls, retries included; not waiting for a slot
    attempts: int = 1
    cost_usd: float | None = None  # spent this run: a call replayed from the cache is free
    cached: bool = False  # every call replayed from the cache
    dry_run: bool = False  # a dry run stood a placeholder in for the judge


@dataclass(frozen=True)
class Verdict:
    """The judge's decision on one request, with everything needed to explain it."""

    passed: bool  # score >= threshold (an UNSTABLE verdict says so separately)
    score: float  # 0..1: P(YES), or the mean of the poll scores
    threshold: float
    answer: str  # the majority answer, "YES" or "NO" (or the most common rating)
    # The reason of a vote that agrees with the verdict; where none was written
    # (llmjudge_reasons), why not: "reason not generated: passed at 0.91 ...".
    reasoning: str
    criterion: str
    output: str
    judge_id: str  # backend, model name and model-file hash (or remote model name)
    prompt_version: str  # template names, content hashes and reply mode
    prompt_tokens: int  # summed over every call, retries included
    completion_tokens: int
    latency_s: float  # wall time of the whole verdict
    attempts: int = 1  # judge calls made, retries included
    cost_usd: float | None = None
    strategy: str = "single"
    cached: bool = False  # every call replayed from the cache
    dry_run: bool = False  # a dry run stood placeholders in for the judge: not a grade
    votes: tuple[Vote, ...] = ()
    # Wilson interval of the score at the policy's confidence; None for one-pass strategies.
    interval: tuple[float, float] | None = None
    confidence: float | None = None
    unstable: bool = False  # the interval still straddles the threshold after max polls
    scale: int | None = None  # the rating scale, when the judge rated instead of answering
    # A verdict that combines others (a checklist's items, an answer's claims) keeps
    # them, in order, with what they are and how much each weighs.
    parts: tuple[Verdict, ...] = ()
    part_kind: str = ""  # "item" or "claim"
    weights: tuple[float, ...] = ()
    notes: tuple[str, ...] = ()  # how the parts came to be (written by the judge, dropped)
    reference: str = ""  # what a pairwise verdict compared the output with
    threshold_source: str = ""  # "" for a given or default threshold; else its calibration
    # "" when the score is P(YES) or the votes; else what scored it (a fitted head). The
    # vote keeps P(YES) beside it.
    score_source: str = ""
    reasoned: bool = True  # False: ``reasoning`` says why the judge wrote no reason

    @property
    def polls(self) -> int:
        return len(self.votes)

    @property
    def yes_votes(self) -> int:
        return sum(v.answer == "YES" for v in self.votes)

    @property
    def outcome(self) -> str:
        if self.unstable:
            return "UNSTABLE"
        return "PASS" if self.passed else "FAIL"

    @property
    def output_excerpt(self) -> str:
        return excerpt(self.output)

    def to_dict(self) -> dict[str, Any]:
        # Field by field rather than dataclasses.asdict, which deep-copies every value:
        # this runs for every verdict, replayed ones too. The same dict asdict gives.
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["votes"] = tuple(dict(vars(v)) for v in self.votes)
        data["output"] = self.output_excerpt
        data["reference"] = excerpt(self.reference)
        data["polls"] = self.polls
        data["outcome"] = self.outcome
        data["parts"] = [part.to_dict() for part in self.parts]
        turns = shown_turns(self.output)
        if turns is not None:
            data["turns"] = turns
        return data


def shown_turns(output: str) -> list[dict[str, Any]] | None:
    """A conversation's turns for a report (role, content excerpt, tool calls), where
    ``output`` is a transcript's canonical JSON; None for any other output."""
    if not output.startswith('[{"'):  # cheap: most outputs are prose
        return None
    import json

    try:
        turns = json.loads(output)
    except ValueError:
        return None
    if not all(isinstance(t, dict) and isinstance(t.get("role"), str) for t in turns):
        return None
    return [{"role": t["role"], "content": excerpt(str(t.get("content") or "")),
             **({"turn": t["turn"]} if isinstance(t.get("turn"), int) else {}),
             "calls": [f"{c.get('name')}({json.dumps(c.get('args'), ensure_ascii=False)})"
                       for c in t.get("tool_calls") or () if isinstance(c, dict)]}
            for t in turns]
