"""Judge accuracy and cost per scoring strategy, on the shared labelled dev splits.

Grounded-hallucination items, judged with the ``grounded`` prompt (assert_grounded):
- HaluEval QA: each row gives a right answer (grounded) and a hallucinated one;
- QAGS-XSum: a summary and its source article, labelled consistent or not.

Two passes per model, each through the public Judge:
- ``direct``: one forward pass per item (strategy logprob). Strategy ``single`` is the
  argmax answer of that very pass on a local backend (temperature 0, same prompt),
  so its verdicts come from the same call and cost the same.
- ``cot``: ``--polls`` chain-of-thought polls per item with seed A and again with seed B
  (fixed polling: min_polls = polls). Each poll carries its sampled vote and its P(YES),
  so chainpoll (fraction of YES votes) and weighted (mean P(YES)) are scored from the
  same polls. Adaptive polling is scored by applying the library's stopping rule
  (polling.settle) to the first k polls: poll k has the same seed whether or not polling
  stopped before it (tests/test_polling_judge.py checks that adaptive votes are the
  prefix of fixed votes), so this is the verdict an adaptive run returns.

Per-item results stream to a JSONL file so a long run keeps what it finished; the
summary table is computed from that file:

    python benchmarks/accuracy.py run --model qwen2.5-coder-1.5b --pass direct
    python benchmarks/accuracy.py run --model qwen2.5-coder-1.5b --pass cot --limit 16 8
    python benchmarks/accuracy.py summary benchmarks/results/accuracy-*.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_llmjudge.backends import create_backend  # noqa: E402
from pytest_llmjudge.config.settings import Settings  # noqa: E402
from pytest_llmjudge.judging.judge import Judge  # noqa: E402
from pytest_llmjudge.judging.policy import Policy, settle  # noqa: E402
from pytest_llmjudge.judging.requests import make_request  # noqa: E402
from pytest_llmjudge.judging.verdict import Verdict  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
THRESHOLD = 0.5  # the shipped default threshold
CONFIDENCE = 0.9  # the shipped default confidence
MIN_POLLS = 3  # the shipped default min_polls


def items(dataset: str, limit: int | None) -> Iterator[dict[str, Any]]:
    rows = [json.loads(x) for x in (DATA / f"{dataset}.jsonl").read_text().splitlines()]
    if dataset == "halueval_qa_dev":
        # Both answers of a row, so any prefix is balanced.
        for row in rows[: None if limit is None else (limit + 1) // 2]:
            for answer, label in ((row["right_answer"], True),
                                  (row["hallucinated_answer"], False)):
                yield dict(id=row["id"], label=label, output=answer,
                           inputs=[("context", row["knowledge"]),
                                   ("question_text", row["question"])])
    else:
        for row in rows[:limit]:
            yield dict(id=row["id"], label=row["consistent"] >= 0.5, output=row["summary"],
                       inputs=[("context", row["source"]), ("question_text", None)])


def vote_records(verdict: Verdict) -> list[dict[str, Any]]:
    return [dict(answer=v.answer, p_yes=v.p_yes, seconds=v.latency_s, calls=v.attempts,
                 tokens=v.prompt_tokens + v.completion_tokens) for v in verdict.votes]


def run(args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"accuracy-{args.model}-{args.pass_}.jsonl"
    done = set()
    if out.exists():
        done = {(r["dataset"], r["id"], r["label"], r["seed"])
                for r in map(json.loads, out.read_text().splitlines())}
    # No per-call deadline: a benchmark may be paused (SIGSTOP) to free the machine.
    settings = {seed: Settings(model=args.model, seed=seed, n_threads=args.threads,
                               timeout=1e6) for seed in args.seeds}
    backend = create_backend(settings[args.seeds[0]].backend_config())
    judges = {seed: Judge(backend, s) for seed, s in settings.items()}
    if args.pass_ == "direct":
        policy = Policy(strategy="logprob")
    else:
        policy = Policy(strategy="chainpoll", polls=args.polls, min_polls=args.polls)
    with out.open("a") as sink:
        for dataset, limit in zip(args.datasets, args.limit or [None] * 2, strict=False):
            for item in items(dataset, limit):
                for seed, judge in judges.items():
                    if (dataset, item["id"], item["label"], seed) in done:
                        continue
                    request = make_request(item["output"], "grounded", None, THRESHOLD,
                                           task="grounded", inputs=item["inputs"],
                                           policy=policy)
                    started = time.perf_counter()
                    verdict = judge.evaluate(request)
                    record = dict(dataset=dataset, id=item["id"], label=item["label"],
                                  seed=seed, model=args.model, pass_=args.pass_,
                                  seconds=time.perf_counter() - started,
                                  votes=vote_records(verdict))
                    sink.write(json.dumps(record) + "\n")
                    sink.flush()
                    print(dataset, item["id"], item["label"], seed,
                          [(v["answer"], round(v["p_yes"] or 0, 2)) for v in record["votes"]],
                          f"{record['seconds']:.1f}s", flush=True)


# -- scoring -----------------------------------------------------------------------------
def auroc(scores: list[float], labels: list[bool]) -> float:
    pos = [s for s, y in zip(scores, labels, strict=True) if y]
    neg = [s for s, y in zip(scores, labels, strict=True) if not y]
    pairs = [(p > n) + 0.5 * (p == n) for p in pos for n in neg]
    return sum(pairs) / len(pairs) if pairs else float("nan")


def decide(votes: list[dict[str, Any]], strategy: str, adaptive: bool,
           confidence: float = CONFIDENCE) -> dict[str, Any]:
    """One strategy's verdict from recorded polls, by the library's own rule."""
    if strategy == "single":
        scores = [1.0 if votes[0]["answer"] == "YES" else 0.0]
    elif strategy == "logprob":
        scores = [votes[0]["p_yes"]]
    elif strategy == "chainpoll":
        scores = [1.0 if v["answer"] == "YES" else 0.0 for v in votes]
    else:  # weighted
        scores = [v["p_yes"] for v in votes]
    used = len(scores)
    unstable = False
    if strategy in ("chainpoll", "weighted"):
        used = MIN_POLLS if adaptive else len(scores)
        while True:
            decision = settle(scores[:used], THRESHOLD, confidence)
            if (adaptive and decision.settled) or used >= len(scores):
                break
            used += 1
        unstable = not decision.settled
    polls = votes[:used]
    score = sum(scores[:used]) / used
    return dict(score=score, passed=score >= THRESHOLD and not unstable, unstable=unstable,
                point=score >= THRESHOLD,
                calls=sum(v["calls"] for v in polls), tokens=sum(v["tokens"] for v in polls),
                seconds=sum(v["seconds"] for v in polls))


def summary(paths: list[str]) -> None:
    records = [json.loads(x) for p in paths for x in Path(p).read_text().splitlines()]
    groups: dict[tuple[str, str, str], dict[int, dict[tuple[str, bool], Any]]] = (
        defaultdict(lambda: defaultdict(dict)))
    for r in records:
        groups[(r["model"], r["dataset"], r["pass_"])][r["seed"]][(r["id"], r["label"])] = r
    # Seconds are the median: a run shares its machine, and a pause stretches one item.
    # acc@0.5 counts an UNSTABLE verdict as a failure (the default unstable=fail);
    # point acc reads the score against 0.5 whatever the interval says.
    print("| model | data | strategy | polling | n | AUROC | acc@0.5 | point acc | calls | tokens "
          "| s/verdict | UNSTABLE | flip |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (model, dataset, pass_), by_seed in sorted(groups.items()):
        seeds = sorted(by_seed)
        keys = sorted(by_seed[seeds[0]])
        # Flip rate over the items judged with both seeds (a second seed may cover fewer).
        twice = [k for k in keys if len(seeds) > 1 and k in by_seed[seeds[1]]]
        combos = ([("single", False, CONFIDENCE), ("logprob", False, CONFIDENCE)]
                  if pass_ == "direct" else
                  [(s, a, c) for s in ("chainpoll", "weighted") for a in (False, True)
                   for c in (0.9, 0.8)])
        for strategy, adaptive, confidence in combos:
            first = [decide(by_seed[seeds[0]][k]["votes"], strategy, adaptive, confidence)
                     for k in keys]
            labels = [k[1] for k in keys]
            flips = "-"
            if twice:
                pairs = [(decide(by_seed[seeds[0]][k]["votes"], strategy, adaptive, confidence),
                          decide(by_seed[seeds[1]][k]["votes"], strategy, adaptive, confidence))
                         for k in twice]
                rate = statistics.mean(a["passed"] != b["passed"] for a, b in pairs)
                flips = f"{rate:.3f} (n={len(twice)})"
            acc = statistics.mean(d["passed"] == y for d, y in zip(first, labels, strict=True))
            point = statistics.mean(d["point"] == y for d, y in zip(first, labels, strict=True))
            polling = "-" if pass_ == "direct" else (
                f"{'adaptive' if adaptive else 'fixed'} @{confidence:g}")
            print(f"| {model} | {dataset.split('_')[0]} | {strategy} | {polling} | {len(keys)} | "
                  f"{auroc([d['score'] for d in first], labels):.3f} | {acc:.3f} | {point:.3f} | "
                  f"{statistics.mean(d['calls'] for d in first):.2f} | "
                  f"{statistics.mean(d['tokens'] for d in first):.0f} | "
                  f"{statistics.median(d['seconds'] for d in first):.2f} | "
                  f"{statistics.mean(d['unstable'] for d in first):.3f} | {flips} |")
        if pass_ == "cot":
            # The one-pass strategies on exactly the polled items, for a fair comparison.
            direct = groups.get((model, dataset, "direct"), {}).get(0, {})
            if all(k in direct for k in keys):
                for strategy in ("single", "logprob"):
                    same = [decide(direct[k]["votes"], strategy, False) for k in keys]
                    labels = [k[1] for k in keys]
                    acc = statistics.mean(d["passed"] == y
                                          for d, y in zip(same, labels, strict=True))
                    print(f"| {model} | {dataset.split('_')[0]} | {strategy} | same items | "
                          f"{len(keys)} | {auroc([d['score'] for d in same], labels):.3f} | "
                          f"{acc:.3f} | {acc:.3f} | 1.00 | "
                          f"{statistics.mean(d['tokens'] for d in same):.0f} | "
                          f"{statistics.median(d['seconds'] for d in same):.2f} | 0.000 | - |")
            fixed = {s: [decide(by_seed[seeds[0]][k]["votes"], s, False) for k in keys]
                     for s in ("chainpoll", "weighted")}
            for s, verdicts in fixed.items():
                adapt = [decide(by_seed[seeds[0]][k]["votes"], s, True) for k in keys]
                ratio = (sum(a["calls"] for a in adapt) / sum(f["calls"] for f in verdicts))
                agree = statistics.mean(a["passed"] == f["passed"]
                                        for a, f in zip(adapt, verdicts, strict=True))
                print(f"| {model} | {dataset.split('_')[0]} | {s} | adaptive/fixed | "
                      f"{len(keys)} | calls ratio {ratio:.2f} | agreement {agree:.3f} "
                      "| | | | | | |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    go = sub.add_parser("run")
    go.add_argument("--model", required=True)
    go.add_argument("--pass", dest="pass_", choices=("direct", "cot"), required=True)
    go.add_argument("--datasets", nargs="+", default=["halueval_qa_dev", "qags_xsum_dev"])
    go.add_argument("--limit", nargs="+", type=int, help="items per dataset (default all)")
    go.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    go.add_argument("--polls", type=int, default=5)
    go.add_argument("--threads", type=int, default=None)
    show = sub.add_parser("summary")
    show.add_argument("paths", nargs="+")
    args = parser.parse_args()
    if args.command == "run":
        run(args)
    else:
        summary(args.paths)


if __name__ == "__main__":
    main()
