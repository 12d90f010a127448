"""Conversations and agents: what the checks are worth, what per-turn judging costs, and
what rule-based tool-call matching costs.

Steps (each writes its figures to benchmarks/results/conversations-STEP.json):

- ``quality``: the hand-written labelled conversations of tests/conversation_cases.py
  (8 a check: knowledge retention, role adherence, goal reached, grounded in tool
  results, and per-turn criteria; half pass, half fail) judged by the plugin's own
  request builders, strategy logprob. AUROC and accuracy at 0.5 per check, beside a
  length-only baseline (the characters in the assistant's turns, longer scored higher,
  and lower).
- ``turns``: a 10-turn conversation (5 assistant turns) judged turn by turn with the
  answer alone (reasons none), in rounds that alternate two ways on one loaded model:
  ``shared``, the turns in order, each prompt starting with the one before so the KV
  cache serves it; ``scratch``, the KV cache emptied before every turn. Seconds a turn
  and their ratio, in the same run.
- ``match``: 10,000 rule-based comparisons of 6-call trajectories (strict, unordered,
  subset, superset; args exact), against one judge call's seconds from ``turns``.

    python benchmarks/conversations.py quality --model qwen2.5-coder-1.5b
    python benchmarks/conversations.py turns --model qwen2.5-coder-1.5b --rounds 3
    python benchmarks/conversations.py match
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from accuracy import auroc  # noqa: E402
from conversation_cases import CASES, CHECKS, Case  # noqa: E402

from pytest_llmjudge.config.settings import Settings  # noqa: E402
from pytest_llmjudge.config.thresholds import Threshold  # noqa: E402
from pytest_llmjudge.judging import requests  # noqa: E402
from pytest_llmjudge.judging.judge import Judge  # noqa: E402
from pytest_llmjudge.judging.policy import Policy  # noqa: E402
from pytest_llmjudge.judging.tool_calls import (  # noqa: E402
    ORDERS,
    actual_calls,
    expected_calls,
    match,
)
from pytest_llmjudge.judging.transcripts import Transcript, parse_transcript  # noqa: E402
from pytest_llmjudge.judging.turns import judge_each_turn, judge_grounded_turns  # noqa: E402
from pytest_llmjudge.judging.verdict import Verdict  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
AT = Threshold(0.5, "call")


def load_judge(model: str) -> Judge:
    from pytest_llmjudge.backends import create_backend

    settings = Settings(model=model, record_mode="off")
    return Judge(create_backend(settings.backend_config()), settings)


def judge_case(judge: Judge, case: Case, policy: Policy) -> Verdict:
    """The verdict the case's assertion would give, built by the plugin's own code."""
    transcript = parse_transcript(case.messages, case.name)
    if case.check == "grounded":
        return judge_grounded_turns(judge, transcript, case.context, None, "sentences", AT,
                                    policy, case.name)
    if case.check == "turn":
        return judge_each_turn(judge, transcript, case.criterion, "assistant", AT, policy)
    if case.check == "retention":
        request = requests.retention(transcript, AT, policy)
    elif case.check == "role":
        shown = "\n\n".join(t.content for t in transcript.turns if t.role == "system")
        request = requests.role(transcript, shown, AT, policy)
    else:
        request = requests.goal(transcript, case.goal or "", AT, policy)
    return judge.evaluate(request)


def assistant_chars(case: Case) -> int:
    return sum(len(m.get("content") or "") for m in case.messages if m["role"] == "assistant")


def quality(args: argparse.Namespace) -> dict[str, Any]:
    judge = load_judge(args.model)
    policy = Policy(strategy="logprob", reasons="none")
    rows = []
    for case in CASES:
        started = time.perf_counter()
        verdict = judge_case(judge, case, policy)
        rows.append({"name": case.name, "check": case.check, "label": case.label,
                     "score": round(verdict.score, 4), "passed": verdict.passed,
                     "seconds": round(time.perf_counter() - started, 2),
                     "calls": verdict.attempts, "chars": assistant_chars(case)})
        print(f"{case.check:10s} {case.name:26s} label {case.label} score "
              f"{verdict.score:.3f} {'PASS' if verdict.passed else 'FAIL'}", flush=True)
    per_check = {}
    for check in (*CHECKS, "all"):
        chosen = [r for r in rows if check in ("all", r["check"])]
        labels = [bool(r["label"]) for r in chosen]
        scores = [r["score"] for r in chosen]
        length = [float(r["chars"]) for r in chosen]
        per_check[check] = {
            "n": len(chosen),
            "auroc": round(auroc(scores, labels), 3),
            "accuracy_at_0.5": round(sum(r["passed"] == bool(r["label"]) for r in chosen)
                                     / len(chosen), 3),
            "length_auroc_longer_higher": round(auroc(length, labels), 3),
            "length_auroc_shorter_higher": round(auroc([-x for x in length], labels), 3),
            "seconds_per_case": round(statistics.mean(r["seconds"] for r in chosen), 2),
        }
    return {"model": args.model, "rows": rows, "per_check": per_check}


def ten_turns() -> Transcript:
    topics = ["my kettle leaks from the base", "it is the steel model from order A1",
              "I bought it on the 2nd of November", "I use it twice a day, nothing unusual",
              "I would like a replacement rather than a refund"]
    chat: list[dict[str, str]] = []
    for number, topic in enumerate(topics):
        chat.append({"role": "user", "content": f"Hello again: {topic}. What do you suggest?"})
        chat.append({"role": "assistant", "content": (
            f"Thank you for telling me that {topic}. I have noted it on your case, and I "
            f"will keep it in mind for the next step (step {number + 1} of 5).")})
    return parse_transcript(chat, "turns")


def turns(args: argparse.Namespace) -> dict[str, Any]:
    judge = load_judge(args.model)
    backend: Any = judge.backend
    transcript = ten_turns()
    policy = Policy(strategy="logprob", reasons="none")
    criterion = "The reply is polite and acknowledges what the user said"
    judge_each_turn(judge, transcript, criterion, "assistant", AT, policy)  # warm up
    seconds: dict[str, list[float]] = {"shared": [], "scratch": []}
    reused: dict[str, list[int]] = {"shared": [], "scratch": []}
    prompt: dict[str, list[int]] = {"shared": [], "scratch": []}
    scores: dict[str, list[float]] = {"shared": [], "scratch": []}
    for _ in range(args.rounds):
        for way in ("shared", "scratch"):
            backend._llm.reset()  # each round starts cold, whichever way comes first
            for turn in transcript.of_role("assistant"):
                if way == "scratch":
                    backend._llm.reset()
                request = requests.turn(transcript, turn.index, criterion, AT, policy)
                before = judge.replayer.totals.reused_prompt_tokens
                started = time.perf_counter()
                verdict = judge.evaluate(request)
                seconds[way].append(time.perf_counter() - started)
                reused[way].append(judge.replayer.totals.reused_prompt_tokens - before)
                prompt[way].append(verdict.prompt_tokens)
                scores[way].append(verdict.score)
    per_turn = {way: statistics.mean(values) for way, values in seconds.items()}
    return {
        "model": args.model, "rounds": args.rounds, "turns_judged": 5,
        "seconds_per_turn": {k: round(v, 3) for k, v in per_turn.items()},
        "shared_over_scratch": round(per_turn["shared"] / per_turn["scratch"], 3),
        "reused_share": {way: round(sum(reused[way]) / sum(prompt[way]), 3)
                         for way in seconds},
        "mean_prompt_tokens": round(statistics.mean(prompt["shared"]), 1),
        "max_score_difference": round(max(abs(a - b) for a, b in zip(
            scores["shared"], scores["scratch"], strict=True)), 6),
    }


def match_cost(args: argparse.Namespace) -> dict[str, Any]:
    made = actual_calls([{"name": f"tool_{i % 4}", "args": {"id": i, "q": f"text {i}",
                                                           "opts": {"n": i, "tags": [1, 2]}}}
                         for i in range(6)], "bench")
    wanted = expected_calls([{"name": f"tool_{i % 4}", "args": {"id": i, "q": f"text {i}",
                                                               "opts": {"n": i, "tags": [1, 2]}}}
                             for i in reversed(range(6))], "bench")
    out: dict[str, Any] = {"comparisons": args.n, "calls_per_trajectory": 6}
    for order in ORDERS:
        started = time.perf_counter()
        for _ in range(args.n):
            match(made, wanted, order, "exact")
        total = time.perf_counter() - started
        out[order] = {"seconds": round(total, 3), "us_each": round(total / args.n * 1e6, 1)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=["quality", "turns", "match"])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-n", type=int, default=10_000)
    args = parser.parse_args()
    step = {"quality": quality, "turns": turns, "match": match_cost}[args.step]
    figures = step(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    target = RESULTS / f"conversations-{args.step}.json"
    target.write_text(json.dumps(figures, indent=2) + "\n")
    summary = {k: v for k, v in figures.items() if k != "rows"}
    print(json.dumps(summary, indent=2))
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
