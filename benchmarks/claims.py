"""Claim-level grounding against whole-answer grounding, same judge, same items.

On QAGS-XSum (a summary and its source article, labelled consistent or not) each item
is judged twice through the library's own path (grounding.judge_grounded):
- ``off``: the whole summary in one judgment (the grounded.v1 prompt);
- ``atomic``: the judge splits the summary into claims, claims the summary does not
  state are dropped, each remaining claim is judged against the article (claim.v1),
  the whole summary is judged too, and the summary scores its lowest part.
The summary table also shows the claims alone (without the whole-summary part), to
show what the claims add.
(XSum summaries are one sentence, so the default ``sentences`` mode is ``off`` here.)

Per-item results stream to a JSONL file; ``summary`` prints AUROC, accuracy at the
shipped threshold and seconds per item, and ``failures`` prints the summaries
that failed under ``atomic`` (either label) with their listed claims and the source,
for a hand check of whether the listed claim is the unsupported one.

    python benchmarks/claims.py run --model qwen2.5-coder-1.5b --limit 120
    python benchmarks/claims.py summary benchmarks/results/claims-qwen2.5-coder-1.5b.jsonl
    python benchmarks/claims.py failures benchmarks/results/claims-qwen2.5-coder-1.5b.jsonl
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from accuracy import RESULTS, THRESHOLD, auroc, items

from pytest_llmjudge.backends import create_backend
from pytest_llmjudge.config.settings import Settings
from pytest_llmjudge.judging.claims import GROUNDED_CRITERION, judge_grounded
from pytest_llmjudge.judging.judge import Judge
from pytest_llmjudge.judging.requests import make_request

MODES = ("off", "atomic")


def run(args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"claims-{args.model}.jsonl"
    done = {json.loads(x)["id"] for x in path.read_text().splitlines()} if path.exists() else set()
    settings = Settings(model=args.model)
    judge = Judge(create_backend(settings.backend_config()), settings)
    with path.open("a") as out:
        for item in items("qags_xsum_dev", args.limit):
            if item["id"] in done:
                continue
            record: dict[str, Any] = dict(id=item["id"], label=item["label"],
                                          output=item["output"])
            for mode in MODES:
                request = make_request(item["output"], GROUNDED_CRITERION, None, THRESHOLD,
                                       task="grounded", inputs=item["inputs"])
                started = time.perf_counter()
                verdict = judge_grounded(judge, request, mode)
                record[mode] = dict(
                    score=verdict.score, passed=verdict.passed,
                    seconds=time.perf_counter() - started, notes=list(verdict.notes),
                    claims=[dict(claim=p.output, score=p.score, reason=p.reasoning,
                                 kind=p.prompt_version.split("@")[0])
                            for p in verdict.parts],
                    reason=verdict.reasoning)
            out.write(json.dumps(record) + "\n")
            out.flush()
            print(item["id"], item["label"],
                  {m: round(record[m]["score"], 3) for m in MODES}, flush=True)
    judge.backend.close()


def load(path: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in Path(path).read_text().splitlines()]


def _claims_only(record: dict[str, Any]) -> float:
    """The lowest claim score, leaving out the whole-summary part (records made before
    atomic mode judged the whole summary too have no such part)."""
    claims = [c["score"] for c in record["atomic"]["claims"] if c.get("kind") != "grounded.v1"]
    return min(claims) if claims else record["atomic"]["score"]


def summary(args: argparse.Namespace) -> None:
    rows = load(args.path)
    labels = [r["label"] for r in rows]
    scored = {
        "off (whole summary)": [r["off"]["score"] for r in rows],
        "claims alone": [_claims_only(r) for r in rows],
        # What atomic mode returns: the lowest of the whole-summary and claim scores.
        "atomic": [min(r["off"]["score"], _claims_only(r)) for r in rows],
    }
    seconds = {"off (whole summary)": "off", "atomic": "atomic"}
    print(f"{len(rows)} items ({sum(labels)} consistent), threshold {THRESHOLD}")
    print(f"{'mode':20} {'AUROC':>6} {'acc':>6} {'TPR':>6} {'TNR':>6} {'s/item':>7}")
    for mode, scores in scored.items():
        passed = [s >= THRESHOLD for s in scores]
        acc = sum(p == y for p, y in zip(passed, labels, strict=True)) / len(rows)
        tpr = sum(p for p, y in zip(passed, labels, strict=True) if y) / max(1, sum(labels))
        tnr = (sum(not p for p, y in zip(passed, labels, strict=True) if not y)
               / max(1, len(rows) - sum(labels)))
        spent = (f"{sum(r[seconds[mode]]['seconds'] for r in rows) / len(rows):7.1f}"
                 if mode in seconds else f"{'':7}")
        print(f"{mode:20} {auroc(scores, labels):6.3f} {acc:6.3f} {tpr:6.3f} {tnr:6.3f} "
              f"{spent}")
    claims = [sum(c.get("kind") != "grounded.v1" for c in r["atomic"]["claims"]) or 1
              for r in rows]
    dropped = sum(sum("dropped" in n for n in r["atomic"]["notes"]) for r in rows)
    print(f"atomic: {sum(claims) / len(rows):.2f} claims judged per item, "
          f"{dropped} written claims dropped as not stated in the summary")
    print("(atomic seconds are measured without the whole-summary part where the records "
          "predate it; add the off seconds for the shipped mode)"
          if any(all(c.get("kind") != "grounded.v1" for c in r["atomic"]["claims"])
                 for r in rows) else "")


def failures(args: argparse.Namespace) -> None:
    sources = {i["id"]: dict(i["inputs"])["context"] for i in items("qags_xsum_dev", None)}
    for row in load(args.path):
        atomic = row["atomic"]
        if min(row["off"]["score"], _claims_only(row)) >= THRESHOLD:
            continue
        label = "consistent" if row["label"] else "inconsistent"
        print(f"\n{row['id']} (labelled {label}): {row['output']}\n"
              f"SOURCE: {sources[row['id']][:1800]}")
        print(f"  [whole summary {row['off']['score']:.2f}] -- {row['off']['reason']}")
        for claim in atomic["claims"] or [dict(claim="(whole)", score=atomic["score"],
                                               reason=atomic["reason"])]:
            mark = "UNSUPPORTED" if claim["score"] < THRESHOLD else "ok"
            print(f"  [{mark} {claim['score']:.2f}] {claim['claim']}  -- {claim['reason']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    go = sub.add_parser("run")
    go.add_argument("--model", default="qwen2.5-coder-1.5b")
    go.add_argument("--limit", type=int, default=None)
    for name in ("summary", "failures"):
        sub.add_parser(name).add_argument("path")
    args = parser.parse_args()
    {"run": run, "summary": summary, "failures": failures}[args.command](args)


if __name__ == "__main__":
    main()
