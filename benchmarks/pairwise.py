"""Pairwise judging on LLMBar: accuracy, position flips, and the single-order baseline.

Each LLMBar pair (an instruction, two outputs, the label of the better one) is judged
through the library's own path with the chosen model:
- ``AB`` and ``BA``: the pairwise prompt in each order, P(A) from the logits
  (pairwise.compare judges exactly these two requests);
- ``independent``: each output scored on its own, P(YES) to the checklist item "The
  response follows the instruction fully and accurately", and the higher one chosen.

Figures, from one run:
- single order (AB only, or BA only): accuracy of the preferred output;
- both orders: the flip rate (pairs whose preferred output changes with the order),
  accuracy of the mean P (forced choice), and the three-way outcome (BETTER, WORSE,
  TIE) with accuracy over the pairs it decides;
- independent scores: accuracy;
each overall and for the Natural and Adversarial subsets.

    python benchmarks/pairwise.py run --model qwen2.5-coder-1.5b --per-subset 12
    python benchmarks/pairwise.py summary benchmarks/results/pairwise-qwen2.5-coder-1.5b.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_llmjudge.backends import create_backend  # noqa: E402
from pytest_llmjudge.config.settings import Settings  # noqa: E402
from pytest_llmjudge.judging.judge import Judge  # noqa: E402
from pytest_llmjudge.judging.pairwise import order_requests, outcome  # noqa: E402
from pytest_llmjudge.judging.requests import make_request  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "llmbar_dev.jsonl"
RESULTS = ROOT / "benchmarks" / "results"
CRITERIA = "The response follows the instruction fully and accurately"


def sample(per_subset: int) -> list[dict[str, Any]]:
    """The first ``per_subset`` rows of each LLMBar subset, in file order."""
    rows = [json.loads(x) for x in DATA.read_text().splitlines()]
    taken: dict[str, int] = defaultdict(int)
    out = []
    for row in rows:
        if taken[row["subset"]] < per_subset:
            taken[row["subset"]] += 1
            out.append(row)
    return out


def run(args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"pairwise-{args.model}.jsonl"
    done = {json.loads(x)["id"] for x in path.read_text().splitlines()} if path.exists() else set()
    settings = Settings(model=args.model)
    judge = Judge(create_backend(settings.backend_config()), settings)
    with path.open("a") as out:
        for row in sample(args.per_subset):
            if row["id"] in done:
                continue
            started = time.perf_counter()
            pair = make_request(row["output_1"], CRITERIA, None, 0.5, task="pairwise",
                                inputs=[("instruction", row["input"])])
            ab, ba = (judge.evaluate(r) for r in order_requests(pair, row["output_2"]))
            pair_seconds = time.perf_counter() - started
            started = time.perf_counter()
            alone = [judge.evaluate(make_request(o, CRITERIA, None, 0.5, task="checklist",
                                                 inputs=[("instruction", row["input"])]))
                     for o in (row["output_1"], row["output_2"])]
            record = dict(id=row["id"], subset=row["subset"], label=row["label"],
                          p_a_ab=ab.score, p_a_ba=ba.score, pair_seconds=pair_seconds,
                          alone=[v.score for v in alone],
                          alone_seconds=time.perf_counter() - started)
            out.write(json.dumps(record) + "\n")
            out.flush()
            print(row["id"], row["label"], round(ab.score, 3), round(ba.score, 3),
                  [round(v.score, 3) for v in alone], flush=True)
    judge.backend.close()


def figures(rows: list[dict[str, Any]]) -> dict[str, float]:
    n = len(rows)
    first_wins = [r["label"] == 1 for r in rows]
    # P(output_1 better) seen from each order.
    p_ab = [r["p_a_ab"] for r in rows]
    p_ba = [1.0 - r["p_a_ba"] for r in rows]
    mean = [(a + b) / 2 for a, b in zip(p_ab, p_ba, strict=True)]
    outcomes = [outcome(a, b) for a, b in zip(p_ab, p_ba, strict=True)]
    decided = [(o, y) for o, y in zip(outcomes, first_wins, strict=True) if o != "TIE"]

    def acc(scores: list[float]) -> float:
        return sum((s > 0.5) == y for s, y in zip(scores, first_wins, strict=True)) / n

    return dict(
        n=n,
        ab=acc(p_ab),
        ba=acc(p_ba),
        flips=sum((a > 0.5) != (b > 0.5) for a, b in zip(p_ab, p_ba, strict=True)) / n,
        a_first=sum(r["p_a_ab"] > 0.5 for r in rows) / n,
        a_second=sum(r["p_a_ba"] > 0.5 for r in rows) / n,
        mean=acc(mean),
        ties=outcomes.count("TIE") / n,
        decided=(sum((o == "BETTER") == y for o, y in decided) / len(decided)
                 if decided else float("nan")),
        independent=sum((r["alone"][0] > r["alone"][1]) == y
                        for r, y in zip(rows, first_wins, strict=True)) / n,
        pair_s=sum(r["pair_seconds"] for r in rows) / n,
        alone_s=sum(r["alone_seconds"] for r in rows) / n,
    )


def summary(args: argparse.Namespace) -> None:
    rows = [json.loads(x) for x in Path(args.path).read_text().splitlines()]
    groups = {"all": rows,
              "Natural": [r for r in rows if r["subset"] == "Natural"],
              "Adversarial": [r for r in rows if r["subset"].startswith("Adversarial")]}
    for name in sorted({r["subset"] for r in rows if r["subset"].startswith("Adversarial")}):
        groups[f"  {name.split('/')[1]}"] = [r for r in rows if r["subset"] == name]
    print(f"{'subset':14} {'n':>3} {'AB':>5} {'BA':>5} {'flips':>6} {'mean':>5} "
          f"{'ties':>5} {'decided':>7} {'indep':>5}")
    for name, group in groups.items():
        if not group:
            continue
        f = figures(group)
        print(f"{name:14} {f['n']:3d} {f['ab']:5.2f} {f['ba']:5.2f} {f['flips']:6.2f} "
              f"{f['mean']:5.2f} {f['ties']:5.2f} {f['decided']:7.2f} "
              f"{f['independent']:5.2f}")
    f = figures(rows)
    print(f"position A preferred: {f['a_first']:.2f} of pairs with output 1 first, "
          f"{f['a_second']:.2f} with output 2 first")
    print(f"seconds per pair: {f['pair_s']:.1f} both orders, {f['alone_s']:.1f} "
          "independent scores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    go = sub.add_parser("run")
    go.add_argument("--model", default="qwen2.5-coder-1.5b")
    go.add_argument("--per-subset", type=int, default=12)
    sub.add_parser("summary").add_argument("path")
    args = parser.parse_args()
    {"run": run, "summary": summary}[args.command](args)


if __name__ == "__main__":
    main()
