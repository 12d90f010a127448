"""Claim-level grounding: which part of an answer the context does not support.

The answer is split into claims, each claim is judged against the context on its own
(prompt ``claim.v1``), and the answer is grounded when every claim is. The prompt
does not show the whole answer: measured on QAGS-XSum, the 1.5B judge then cited the
answer as its evidence for the claim. Claims come from one of:

- ``sentences`` (default): the answer's sentences, split by rule. Free, deterministic,
  and a one-sentence answer is judged whole, exactly as before.
- ``atomic``: the judge rewrites the answer as short self-contained claims. Small
  judges add facts of their own while doing it, so every written claim is first
  checked against the answer itself, and one the answer does not state is dropped
  (and named in the verdict's notes). They also leave facts out, so the whole
  answer is judged as well, as one more part.
- ``off``: the whole answer in one judgment.

On a local model the claims of one answer share the prompt up to the claim, so each
claim after the first re-reads only its own few tokens.
"""

from __future__ import annotations

import dataclasses
import re
import time

from ..errors import JudgeConfigError
from . import composite
from .judge import Judge, evaluate_many
from .policy import Policy
from .requests import GROUNDED_CRITERION, make_request
from .verdict import JudgeRequest, Verdict

CLAIM_MODES = ("sentences", "atomic", "off")
CLAIM_CRITERION = "The claim is supported by the context"
STATED_CRITERION = "The response states the claim"
MAX_CLAIMS = 12
# Most sentences one answer is split into: each is a judge call (7 s on the 1.5B
# model on 2 cores), and a 200,000-character answer split into 8,000 of them.
MAX_SENTENCE_CLAIMS = 64
# A sentence ends at . ! or ? followed by space and a capital, digit or quote; common
# abbreviations ("e.g.", "Dr.") do not end one.
_END = re.compile(r"(?<=[.!?])([\"')\]]?)\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:e\.g|i\.e|etc|vs|Mr|Mrs|Ms|Dr|Prof|St|No|Inc|Ltd|Co|approx)|\b[A-Z])\.$")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
MIN_WORDS = 2  # a one-word piece ("Yes.", "Sure!") joins its neighbour


def parse_claims_mode(raw: object, where: str) -> str:
    if raw is None:
        return "sentences"
    if raw is False:
        return "off"
    if not isinstance(raw, str) or raw not in CLAIM_MODES:
        raise JudgeConfigError(
            f"{where}: claims={raw!r} is not a way to split an answer; use one of "
            f"{', '.join(CLAIM_MODES)}")
    return raw


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``: lines (bullets stripped), then sentence ends."""
    pieces: list[str] = []
    for line in text.splitlines():
        line = _BULLET.sub("", line).strip()
        if not line:
            continue
        start = 0
        for match in _END.finditer(line):
            candidate = line[start:match.start() + len(match.group(1))].strip()
            if _ABBREVIATION.search(candidate):
                continue
            pieces.append(candidate)
            start = match.end()
        pieces.append(line[start:].strip())
    merged: list[str] = []
    for piece in filter(None, pieces):
        short = len(piece.split()) < MIN_WORDS
        if merged and (short or len(merged[-1].split()) < MIN_WORDS):
            merged[-1] += " " + piece
        else:
            merged.append(piece)
    return merged


def judge_grounded(judge: Judge, request: JudgeRequest, mode: str) -> Verdict:
    """The verdict on a ``grounded`` request, claim by claim under ``mode``."""
    started = time.perf_counter()
    notes: list[str] = []
    extra = composite.Extra()
    if mode == "off":
        return judge.evaluate(request)
    whole: list[JudgeRequest] = []
    if mode == "sentences":
        # Every sentence is judged, however many: a sentence left out would be a
        # claim nobody checked.
        claims = split_sentences(request.output)
        if len(claims) > MAX_SENTENCE_CLAIMS:
            raise JudgeConfigError(
                f"the answer splits into {len(claims)} sentences, more than the "
                f"{MAX_SENTENCE_CLAIMS} claims one grounded judgment makes calls for "
                f"({len(request.output)} characters); assert the answer's parts one by one, "
                "or judge it whole with claims='off' if it fits the judge's context")
    else:
        claims, extra, notes = _atomic_claims(judge, request)
        # The writer may leave a fact out, so the whole answer is judged too: a claim
        # it did not write is still checked, and the answer can only be stricter.
        whole = [request]
        notes.append("the whole answer is judged too, so a fact the written claims leave "
                     "out is still checked")
    if len(claims) <= 1 and not whole:
        return judge.evaluate(request)  # one sentence: the whole answer, as ever
    inputs = dict(request.inputs)
    requests = whole + [
        dataclasses.replace(request, output=claim, criterion=CLAIM_CRITERION, task="claim",
                            inputs=(("context", inputs["context"]),
                                    ("question_text", inputs.get("question_text")),
                                    ("response", request.output)))
        for claim in claims
    ]
    parts = evaluate_many(judge, requests)
    return composite.claims(parts, criterion=GROUNDED_CRITERION, output=request.output,
                          latency_s=time.perf_counter() - started, notes=notes, extra=extra)


def _atomic_claims(judge: Judge,
                   request: JudgeRequest) -> tuple[list[str], composite.Extra, list[str]]:
    """Claims the judge writes, kept only where the answer itself states them."""
    from .written_lists import write_list

    written = write_list(judge, "claims", request.output, max_items=MAX_CLAIMS,
                         what="claims")
    # One pass at temperature 0 per claim, whatever the policy: this is a filter, not
    # the verdict, and the claims are short.
    checks = [make_request(claim, STATED_CRITERION, 0.5, 0.5, task="claim",
                           inputs=(("context", request.output), ("question_text", None),
                                   ("response", request.output)),
                           policy=Policy(strategy="single", reasons="none"))
              for claim in written.items]
    stated = evaluate_many(judge, checks)
    kept = [c.output for c in stated if c.passed]
    notes = [f"claim written by the judge but not stated in the answer, dropped: {c.output!r}"
             for c in stated if not c.passed]
    extra = composite.Extra(
        written.prompt_tokens + sum(c.prompt_tokens for c in stated),
        written.completion_tokens + sum(c.completion_tokens for c in stated),
        written.attempts + sum(c.attempts for c in stated),
        replayed=written.replayed and all(c.cached for c in stated),
        dry_run=written.dry_run or any(c.dry_run for c in stated))
    return kept, extra, notes
