"""The one stub judge of the plumbing tests, plugged into a pytester project through the
public backend hook (``pytest_llmjudge_make_backend``), the way a user's conftest would.

``stub_conftest(rule=..., **script)`` writes the project's conftest.py; the script is
plain values, and each rule is a way of answering that a real model rarely gives on
demand. The stub reads what it needs from the request's fields (the judged texts are
``request.untrusted``, in the order the prompt shows them), not by parsing prompts.
After the run it prints ``stub calls: N`` and one line of what its rule tracks.

It proves plumbing only, never judging: the real-model tiers do that.
"""

from __future__ import annotations

import json
import os
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from pytest_llmjudge.backends.base import Completion, CompletionRequest

TESTS = str(Path(__file__).resolve().parent)
DEFAULT_LIST = ["Is it good?", "Is it short?"]
# Each rule's judge id, and the tokens it reports for an answer and for a written list.
JUDGE_IDS = {"keyword": "stub:v1", "echo": "stub:echo", "checklist": "stub:keyword",
             "claims": "stub:claims", "pairwise": "stub:pair", "votes": "stub:scripted",
             "fixed": "stub:fixed"}
TOKENS = {"keyword": ((20, 4), (30, 8))}
OTHER_TOKENS = ((10, 5), (10, 5))


def stub_conftest(rule: str = "keyword", **script: Any) -> str:
    """A pytester conftest.py whose judge is ``ScriptedBackend(rule, **script)``. It
    also works in a subprocess run (pytest-xdist): it puts tests/ on sys.path itself.
    Indented like the test sources it may be joined with (pytester dedents them)."""
    return textwrap.indent(textwrap.dedent(f"""
        import sys

        if {TESTS!r} not in sys.path:
            sys.path.insert(0, {TESTS!r})
        from stub_backend import ScriptedBackend

        BACKEND = ScriptedBackend({rule!r}, **{script!r})

        def pytest_llmjudge_make_backend(settings):
            return BACKEND

        def pytest_terminal_summary(terminalreporter):
            for line in BACKEND.summary():
                terminalreporter.write_line(line)
    """), "    ")


def json_escaped(text: str) -> str:
    """``text`` as the inside of a JSON string with every character a \\uXXXX escape
    (a character beyond the BMP as its surrogate pair), as no encoder of ours writes it."""
    out = []
    for c in text:
        n = ord(c)
        if n > 0xFFFF:
            n -= 0x10000
            out += [f"\\u{0xD800 + (n >> 10):04x}", f"\\u{0xDC00 + (n & 0x3FF):04x}"]
        else:
            out.append(f"\\u{n:04x}")
    return "".join(out)


def _text(shown: str) -> str:
    """An untrusted text as the prompt shows it (a JSON string literal), decoded."""
    value = json.loads(shown)
    return value if isinstance(value, str) else shown


class ScriptedBackend:
    """Answers by its rule:

    - ``keyword``: YES (P 0.9) when the judged text contains ``word`` (default
      "good"), else NO (P 0.2).
    - ``checklist``: YES (P 0.9) to the checklist items in ``passing``, else NO (0.2);
      each call takes ``delay`` seconds, and the most calls in flight are counted.
    - ``claims``: NO (P 0.1) to a claim (or whole answer) holding a word of
      ``unsupported``, unless it is the context itself; else YES (P 0.9).
    - ``pairwise``: prefers the response with more "+" (P(A) 0.5 + 0.1 a difference),
      or, with ``position=True``, always the first one shown (P(A) 0.8); an output
      judged alone gets P(YES) 0.5 + 0.2 a "+" (sent without logprobs when
      ``alone_probs=False``).
    - ``votes``: poll i (known by its seed) votes ``votes[i]`` ("Y" or "N"); a direct
      call votes ``votes[0]``; P(YES) 0.8 or 0.3 when ``logprobs``.
    - ``fixed``: the reply ``text`` verbatim, with ``probs`` for the answer, if any.
    - ``echo``: NO (P 0.2), its reason quoting the environment variable ``env``
      (``escaped=True``: every character spelled as a JSON escape).

    Every rule writes ``written`` (default two items) when asked for a list. The
    environment can set the judge id (STUB_JUDGE) and a price per call (STUB_COST).
    """

    model_name = "stub"

    def __init__(self, rule: str, *, written: list[str] | None = None,
                 logprobs: bool = True, **script: Any) -> None:
        if not hasattr(self, f"_{rule}"):
            raise ValueError(f"no stub rule {rule!r}")
        self.rule = rule
        self.script = script
        self.written = DEFAULT_LIST if written is None else written
        self.judge_id = os.environ.get("STUB_JUDGE", JUDGE_IDS[rule])
        self.tokens, self.list_tokens = TOKENS.get(rule, OTHER_TOKENS)
        self.supports_logprobs = logprobs
        self.calls: list[CompletionRequest] = []
        self.tracked: list[Any] = []  # what the rule reports after the run
        self.alone: list[str] = []  # outputs a comparison judged alone (pairwise)
        self._lock = threading.Lock()
        self._in_flight = self._most_in_flight = 0

    def complete(self, request: CompletionRequest) -> Completion:
        with self._lock:
            self.calls.append(request)
            self._in_flight += 1
            self._most_in_flight = max(self._most_in_flight, self._in_flight)
        try:
            time.sleep(self.script.get("delay", 0.0))
            if request.reply.fields[0].name == "items":
                self._track("list")
                return Completion(json.dumps({"items": self.written}), {}, *self.list_tokens)
            completion: Completion = getattr(self, f"_{self.rule}")(request)
        finally:
            with self._lock:
                self._in_flight -= 1
        cost = os.environ.get("STUB_COST")
        return Completion(completion.text, completion.choice_probs, completion.prompt_tokens,
                          completion.completion_tokens, float(cost) if cost else None)

    def close(self) -> None:
        pass

    def summary(self) -> list[str]:
        lines = [f"stub calls: {len(self.calls)}"]
        if self.rule == "fixed":
            lines.append(f"stub temperatures: "
                         f"{[(c.temperature, c.choice_temperature) for c in self.calls]}")
        elif self.rule == "checklist":
            lists = sum(1 for t in self.tracked if t == "list")
            lines.append(f"stub lists written: {lists}, most in flight: {self._most_in_flight}")
        elif self.rule in ("claims", "pairwise"):
            lines.append(f"stub {'kinds' if self.rule == 'claims' else 'pairs'}: {self.tracked}")
        if self.rule == "pairwise":
            lines.append(f"stub alone: {sorted(self.alone)}")
        return lines

    # -- rules ------------------------------------------------------------------------
    def _track(self, value: Any) -> None:
        with self._lock:
            self.tracked.append(value)

    def _reply(self, request: CompletionRequest, answer: str, p: float, reason: str,
               choices: tuple[str, str] = ("YES", "NO")) -> Completion:
        body = {f.name: answer if f.name == "answer" else reason for f in request.reply.fields}
        probs = {"answer": {choices[0]: p, choices[1]: 1 - p}}
        return Completion(json.dumps(body), probs, *self.tokens)

    def _keyword(self, request: CompletionRequest) -> Completion:
        yes = self.script.get("word", "good") in request.untrusted[0]
        return self._reply(request, "YES" if yes else "NO", 0.9 if yes else 0.2, "stub says")

    def _checklist(self, request: CompletionRequest) -> Completion:
        user = request.messages[-1].content
        item = user.split("Checklist item: ", 1)[1].split("\n", 1)[0]
        yes = item in self.script.get("passing", ())
        answer = "YES" if yes else "NO"
        return self._reply(request, answer, 0.9 if yes else 0.2, f"stub says {answer} to {item}")

    def _claims(self, request: CompletionRequest) -> Completion:
        claimed, context = request.untrusted[0], request.untrusted[1]
        self._track("claim" if any("<claim_" in m.content for m in request.messages)
                    else "whole")
        ok = (not any(w in claimed for w in self.script.get("unsupported", ()))
              or claimed == context)
        return self._reply(request, "YES" if ok else "NO", 0.9 if ok else 0.1,
                           f"checked {_text(claimed)}")

    def _pairwise(self, request: CompletionRequest) -> Completion:
        if not any("<response_A_" in m.content for m in request.messages):
            # One output judged alone (llmjudge_pairwise=signals): P(YES) 0.5 + 0.2 a "+",
            # so its view of a pair matches the orders' (0.5 + 0.1 a difference).
            alone = _text(request.untrusted[0])
            with self._lock:
                self.alone.append(alone)
            p_yes = min(0.5 + 0.2 * alone.count("+"), 0.99)
            reply = self._reply(request, "YES" if p_yes >= 0.5 else "NO", p_yes, "plus")
            if self.script.get("alone_probs", True):
                return reply
            # A server that claims logprobs and sends none for these calls.
            return Completion(reply.text, {}, *self.tokens)
        a, b = _text(request.untrusted[0]), _text(request.untrusted[-1])
        self._track((a, b))
        p_a = 0.8 if self.script.get("position") else 0.5 + 0.1 * (a.count("+") - b.count("+"))
        answer = "A" if p_a >= 0.5 else "B"
        return self._reply(request, answer, p_a, f"{answer} has more plus", ("A", "B"))

    def _votes(self, request: CompletionRequest) -> Completion:
        votes = self.script["votes"]
        if request.reply.fields[0].name == "reasoning":
            from pytest_llmjudge.judging.policy import poll_seed

            poll = next(i for i in range(len(votes)) if poll_seed(0, i) == request.seed)
            answer = "YES" if votes[poll] == "Y" else "NO"
            body = {"reasoning": f"poll {poll + 1} thinks {answer}", "answer": answer}
        else:
            answer = "YES" if votes[0] == "Y" else "NO"
            body = {f.name: answer if f.name == "answer" else "direct"
                    for f in request.reply.fields}
        p_yes = 0.8 if answer == "YES" else 0.3
        probs = {"answer": {"YES": p_yes, "NO": 1 - p_yes}} if self.supports_logprobs else {}
        return Completion(json.dumps(body), probs, *self.tokens)

    def _echo(self, request: CompletionRequest) -> Completion:
        """NO (P 0.2), the reason quoting the environment variable ``env``: a judge that
        echoes a secret it saw. ``escaped=True`` spells every character of the reason
        as a \\uXXXX escape, the way some servers write JSON."""
        reason = "I saw " + os.environ[self.script["env"]]
        if self.script.get("escaped"):
            body = {f.name: "NO" if f.name == "answer" else "@REASON@"
                    for f in request.reply.fields}
            text = json.dumps(body).replace("@REASON@", json_escaped(reason))
            return Completion(text, {"answer": {"YES": 0.2, "NO": 0.8}}, *self.tokens)
        return self._reply(request, "NO", 0.2, reason)

    def _fixed(self, request: CompletionRequest) -> Completion:
        probs = self.script.get("probs")
        text = self.script["text"]
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if isinstance(body, dict) and "reason" in body and len(request.reply.fields) == 1:
            # An answer-only request: the same reply, cut after its answer (a judge
            # under a grammar writes nothing more).
            text = json.dumps({k: v for k, v in body.items() if k != "reason"})
        return Completion(text, {"answer": probs} if probs else {}, *self.tokens)

