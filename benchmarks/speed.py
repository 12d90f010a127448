"""What a verdict costs: reasons on demand, shared prompt prefixes, remote judges, xdist.

Steps (each writes its figures to benchmarks/results/speed-STEP.json):

- ``verdicts``: HaluEval QA dev rows (both answers of each row) judged whole by the
  grounded prompt, strategy logprob, in three ways on one loaded model, in blocks of
  rows that rotate between the ways so machine noise hits all three alike:
  ``before``: one call writing the answer and then its reason (what 0.1.0 did for
  every verdict); ``after``: the plugin's default path (the answer alone, and a reason
  only for a failure or a pass within 0.1 of the threshold, continuing the same
  sequence); ``bare``: llama-cpp-python's own ``create_completion`` on the same prompt
  tokens, one token generated. Seconds per verdict, and AUROC and accuracy at 0.5 of
  P(YES) for ``before`` and ``after``.
- ``prefix``: 20 answers judged against one context, with the prompt laid out as now
  (every section tagged by its own text, so the context is the same prefix for all 20)
  and as before (every tag derived from the judged answer, so the prompts part at the
  first tag). Seconds per call and the share of prompt tokens the KV cache served.
- ``layout``: AUROC and accuracy of P(YES) on the same rows with the prompt laid out
  as now and as before (only the tags differ).
- ``remote``: the same rows through llama-cpp-python's OpenAI-compatible server on
  127.0.0.1: one call writing answer and reason, against the answer alone plus a
  second call for the reason where wanted. Seconds per verdict.
- ``xdist``: 12 judged tests run with ``-n 0`` and ``-n 2`` (each worker loads its own
  model, with the cores split between them): verdicts per minute, wall clock included.

    python benchmarks/speed.py verdicts --model qwen2.5-coder-1.5b --rows 24
    python benchmarks/speed.py prefix --model qwen2.5-coder-1.5b
    python benchmarks/speed.py layout --model qwen2.5-coder-1.5b --rows 40
    python benchmarks/speed.py remote --model qwen2.5-coder-1.5b --rows 12
    python benchmarks/speed.py xdist --model qwen2.5-coder-1.5b
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from accuracy import auroc, items  # noqa: E402

from pytest_llmjudge.backends import create_backend  # noqa: E402
from pytest_llmjudge.backends.base import CompletionRequest  # noqa: E402
from pytest_llmjudge.config.settings import Settings  # noqa: E402
from pytest_llmjudge.judging.judge import Judge  # noqa: E402
from pytest_llmjudge.judging.policy import Policy  # noqa: E402
from pytest_llmjudge.judging.prompts import untrusted_tag  # noqa: E402
from pytest_llmjudge.judging.reply_formats import DIRECT_REPLY, parse_reply  # noqa: E402
from pytest_llmjudge.judging.requests import make_request  # noqa: E402
from pytest_llmjudge.judging.verdict import JudgeRequest  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
BLOCK = 4  # rows per block; the ways rotate block by block


def grounded(item: dict[str, Any], reasons: str = "failures") -> JudgeRequest:
    return make_request(item["output"], "grounded", None, 0.5, task="grounded",
                        inputs=item["inputs"], policy=Policy(strategy="logprob",
                                                             reasons=reasons))


def one_call(judge: Judge, request: JudgeRequest) -> tuple[float, float, str]:
    """Answer and reason in one reply, as 0.1.0 asked every verdict: P(YES), reason."""
    messages, untrusted = judge.render(request, "direct")
    started = time.perf_counter()
    completion = judge.backend.complete(CompletionRequest(
        messages=messages, reply=DIRECT_REPLY, untrusted=untrusted,
        max_tokens=judge.settings.max_tokens, timeout=1e6))
    seconds = time.perf_counter() - started
    reason = parse_reply(completion.text, DIRECT_REPLY).reason
    return seconds, completion.choice_probs["answer"]["YES"], reason


def bare_call(judge: Judge, request: JudgeRequest) -> float:
    """llama-cpp-python alone: the same prompt tokens and the reply's opening, one token
    generated at temperature 0."""
    backend: Any = judge.backend
    messages, untrusted = judge.render(request, "direct")
    tokens = backend._prompt_tokens(messages, untrusted)
    tokens += backend._tokenize('{"answer": "', special=False)
    started = time.perf_counter()
    backend._llm.create_completion(prompt=tokens, max_tokens=1, temperature=0.0)
    return time.perf_counter() - started


def verdicts(args: argparse.Namespace) -> dict[str, Any]:
    settings = Settings(model=args.model, record_mode="off", timeout=1e6)
    judge = Judge(create_backend(settings.backend_config()), settings)
    rows = list(items("halueval_qa_dev", args.rows))
    judge.evaluate(grounded(rows[0]))  # load the model; warm the system prompt
    ways = ("before", "after", "bare")
    seen: dict[str, list[dict[str, Any]]] = {w: [] for w in ways}
    for block, start in enumerate(range(0, len(rows), BLOCK)):
        chunk = rows[start:start + BLOCK]
        for way in ways[block % 3:] + ways[:block % 3]:
            for item in chunk:
                request = grounded(item)
                if way == "before":
                    seconds, p_yes, _reason = one_call(judge, request)
                    seen[way].append(dict(label=item["label"], seconds=seconds, p_yes=p_yes,
                                          passed=p_yes >= 0.5, reasoned=True))
                elif way == "after":
                    started = time.perf_counter()
                    verdict = judge.evaluate(request)
                    seen[way].append(dict(
                        label=item["label"], seconds=time.perf_counter() - started,
                        p_yes=verdict.score, passed=verdict.passed,
                        reasoned=verdict.reasoned, tokens=verdict.completion_tokens))
                else:
                    seen[way].append(dict(label=item["label"], seconds=bare_call(judge, request)))
        print(f"block {block}: " + ", ".join(
            f"{w} {statistics.median(r['seconds'] for r in seen[w]):.2f}s" for w in ways),
            flush=True)
    after = seen["after"]
    passing = [r["seconds"] for r in after if not r["reasoned"]]
    reasoned = [r["seconds"] for r in after if r["reasoned"]]
    out: dict[str, Any] = {"model": args.model, "rows": len(rows), "block": BLOCK,
                           "median_s": {w: statistics.median(r["seconds"] for r in seen[w])
                                        for w in ways},
                           "after_unreasoned_median_s": statistics.median(passing)
                           if passing else None,
                           "after_reasoned_median_s": statistics.median(reasoned)
                           if reasoned else None,
                           "after_reasoned_share": len(reasoned) / len(after),
                           "before_failing_median_s": statistics.median(
                               r["seconds"] for r in seen["before"] if not r["passed"]),
                           # Row by row: the unreasoned verdicts are not a random
                           # half (they pass), so their rows are compared with themselves.
                           "ratio_unreasoned_to_bare_same_rows": statistics.median(
                               a["seconds"] / b["seconds"] for a, b in zip(
                                   after, seen["bare"], strict=True) if not a["reasoned"])
                           if passing else None,
                           "ratio_reasoned_to_before_same_rows": statistics.median(
                               a["seconds"] / b["seconds"] for a, b in zip(
                                   after, seen["before"], strict=True) if a["reasoned"])
                           if reasoned else None,
                           "total_after_to_before": sum(r["seconds"] for r in after)
                           / sum(r["seconds"] for r in seen["before"])}
    for way in ("before", "after"):
        scores = [r["p_yes"] for r in seen[way]]
        labels = [r["label"] for r in seen[way]]
        out[f"auroc_{way}"] = auroc(scores, labels)
        out[f"accuracy_{way}"] = sum((s >= 0.5) == y for s, y in zip(scores, labels,
                                                                      strict=True)) / len(labels)
    out["largest_p_yes_difference"] = max(
        abs(a["p_yes"] - b["p_yes"]) for a, b in zip(seen["before"], after, strict=True))
    out["rows_seen"] = seen
    return out


def prefix(args: argparse.Namespace) -> dict[str, Any]:
    """20 answers against one context: the shared layout against the old one."""
    settings = Settings(model=args.model, record_mode="off", timeout=1e6)
    judge = Judge(create_backend(settings.backend_config()), settings)
    backend: Any = judge.backend
    rows = list(items("halueval_qa_dev", 40))
    context = rows[0]["inputs"]
    answers = [r["output"] for r in rows[:20]]
    from pytest_llmjudge.judging.reply_formats import reply_spec

    spec = reply_spec("direct", reason=False)
    judge.evaluate(grounded(rows[0]))  # load the model
    results: dict[str, dict[str, float]] = {}
    for layout in ("old", "shared", "old", "shared"):
        backend._llm.reset()
        seconds, reused, total = [], 0, 0
        for answer in answers:
            request = make_request(answer, "grounded", None, 0.5, task="grounded",
                                   inputs=context)
            messages, untrusted = judge.render(request, "direct")
            if layout == "old":
                # Before: one tag for every section, derived from the judged answer.
                messages, untrusted = judge.render(request, "direct",
                                                   tags=untrusted_tag(answer))
            started = time.perf_counter()
            completion = backend.complete(CompletionRequest(
                messages=messages, reply=spec, untrusted=untrusted, timeout=1e6))
            seconds.append(time.perf_counter() - started)
            reused += completion.reused_prompt_tokens
            total += completion.prompt_tokens
        entry = results.setdefault(layout, {"seconds": [], "reused": 0, "prompt": 0})
        entry["seconds"] += seconds  # type: ignore[operator]
        entry["reused"] += reused
        entry["prompt"] += total
        print(layout, f"{statistics.median(seconds):.2f}s per call, "
              f"{reused / total:.0%} of prompt tokens reused", flush=True)
    return {"model": args.model, "answers": len(answers), **{
        layout: {"median_s": statistics.median(e["seconds"]),  # type: ignore[arg-type]
                 "mean_s": statistics.mean(e["seconds"]),  # type: ignore[arg-type]
                 "prompt_tokens_per_call": e["prompt"] / (2 * len(answers)),
                 "reused_share": e["reused"] / e["prompt"]}
        for layout, e in results.items()}}


def remote(args: argparse.Namespace) -> dict[str, Any]:
    from servers import JudgeServer

    server = JudgeServer(model=args.model, alias="judge", threads=os.cpu_count() or 2)
    try:
        settings = Settings(backend="litellm", model="openai/judge", api_base=(server.url,),
                            record_mode="off", timeout=600.0)
        judge = Judge(create_backend(settings.backend_config()), settings)
        rows = list(items("halueval_qa_dev", args.rows))
        judge.evaluate(grounded(rows[0]))  # negotiate the format, warm the server
        seen: dict[str, list[float]] = {"one call": [], "answer, then reason": []}
        reasoned = 0
        for block, start in enumerate(range(0, len(rows), BLOCK)):
            ways = list(seen) if block % 2 == 0 else list(seen)[::-1]
            for way in ways:
                for item in rows[start:start + BLOCK]:
                    request = grounded(item)
                    if way == "one call":
                        seen[way].append(one_call(judge, request)[0])
                    else:
                        started = time.perf_counter()
                        verdict = judge.evaluate(request)
                        seen[way].append(time.perf_counter() - started)
                        reasoned += verdict.reasoned
            print(f"block {block}: " + ", ".join(
                f"{w} {statistics.median(s):.2f}s" for w, s in seen.items()), flush=True)
        return {"model": args.model, "rows": len(rows),
                "median_s": {w: statistics.median(s) for w, s in seen.items()},
                "mean_s": {w: statistics.mean(s) for w, s in seen.items()},
                "reasoned_share": reasoned / len(rows)}
    finally:
        server.stop()


def layout(args: argparse.Namespace) -> dict[str, Any]:
    """AUROC and accuracy at 0.5 of P(YES) on the same rows, with every section tagged
    by its own text (now) and by the judged answer (before): the tags are all that
    differs between the two prompts."""
    from pytest_llmjudge.judging.reply_formats import reply_spec

    settings = Settings(model=args.model, record_mode="off", timeout=1e6)
    judge = Judge(create_backend(settings.backend_config()), settings)
    spec = reply_spec("direct", reason=False)
    rows = list(items("halueval_qa_dev", args.rows))
    scores: dict[str, list[float]] = {"before": [], "now": []}
    for item in rows:
        request = grounded(item)
        for way in scores:
            tags = untrusted_tag(item["output"]) if way == "before" else None
            messages, untrusted = judge.render(request, "direct", tags=tags)
            completion = judge.backend.complete(CompletionRequest(
                messages=messages, reply=spec, untrusted=untrusted, timeout=1e6))
            scores[way].append(completion.choice_probs["answer"]["YES"])
    labels = [r["label"] for r in rows]
    return {"model": args.model, "rows": len(rows), **{
        way: {"auroc": auroc(v, labels),
              "accuracy": sum((x >= 0.5) == y for x, y in zip(v, labels, strict=True))
              / len(labels)} for way, v in scores.items()}}


XDIST_TEST = """
import pytest
from pytest_llmjudge import assert_grounded

CASES = {cases!r}

@pytest.mark.parametrize("answer, context, question", CASES)
def test_grounded(answer, context, question):
    assert_grounded(answer, context=context, question=question, claims="off",
                    threshold=0.0)
"""


def xdist(args: argparse.Namespace) -> dict[str, Any]:
    rows = list(items("halueval_qa_dev", args.rows))
    cases = [(r["output"], r["inputs"][0][1], r["inputs"][1][1]) for r in rows]
    out: dict[str, Any] = {"model": args.model, "tests": len(cases), "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "pytest.ini").write_text(
            f"[pytest]\nllmjudge_model = {args.model}\nllmjudge_record_mode = off\n")
        (project / "test_speed.py").write_text(textwrap.dedent(XDIST_TEST.format(cases=cases)))
        for workers in ("0", "2", "0", "2"):
            started = time.perf_counter()
            done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p",
                                   "no:cacheprovider", "-n", workers], cwd=project,
                                  capture_output=True, text=True, timeout=3600)
            seconds = time.perf_counter() - started
            assert done.returncode == 0, done.stdout[-2000:]
            out["runs"].append({"workers": workers, "seconds": seconds,
                                "verdicts_per_minute": 60 * len(cases) / seconds})
            print(f"-n {workers}: {seconds:.1f}s, "
                  f"{60 * len(cases) / seconds:.1f} verdicts/min", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=("verdicts", "prefix", "layout", "remote", "xdist"))
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--rows", type=int, default=24)
    args = parser.parse_args()
    result = {"verdicts": verdicts, "prefix": prefix, "layout": layout, "remote": remote,
              "xdist": xdist}[args.step](args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"speed-{args.step}.json"
    path.write_text(json.dumps(result, indent=2))
    shown = {k: v for k, v in result.items() if k != "rows_seen"}
    print(json.dumps(shown, indent=2))


if __name__ == "__main__":
    main()
