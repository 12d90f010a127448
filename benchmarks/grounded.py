"""``assert_grounded`` on HaluEval QA, exactly as a test would judge it, and a fitted threshold.

Each item goes through the code ``assert_grounded`` runs, without pytest: the request
from ``judging/requests.py`` (the grounded criterion, the knowledge as context, the
question), then ``judging/claims.judge_grounded`` with the default claims mode
(sentences) and the default settings (strategy auto: P(YES) from one forward pass on a
local model; a reason is written for each verdict, as today).

- ``halueval_qa_train`` (rows 200-299: 200 items) is used only to fit a threshold
  (balanced accuracy, by the calibration run's own metrics code);
- ``halueval_qa_dev`` (rows 0-199: 400 items, or the first --dev-rows rows) is where
  every figure is reported: AUROC, accuracy at the default 0.5 and at the fitted
  threshold, seconds and tokens per verdict.

Beside it, the length-only baseline on the same dev items: the answer's length in
characters as the score (shorter = grounded, which is how HaluEval's right answers
differ: the score is 1 / (1 + characters)), with its own threshold fitted on the
train items. A judge gain that length
explains is not a gain.

    python benchmarks/grounded.py --model qwen2.5-coder-1.5b [--dev-rows 200]

Per-item results stream to benchmarks/results/grounded-<model>.jsonl (a rerun resumes);
the summary is printed and written to benchmarks/results/grounded-<model>.json.
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

from pytest_llmjudge.backends import create_backend  # noqa: E402
from pytest_llmjudge.calibration.metrics import auroc, confusion, fit_threshold  # noqa: E402
from pytest_llmjudge.config.settings import Settings  # noqa: E402
from pytest_llmjudge.config.thresholds import Threshold  # noqa: E402
from pytest_llmjudge.judging import requests  # noqa: E402
from pytest_llmjudge.judging.claims import judge_grounded  # noqa: E402
from pytest_llmjudge.judging.judge import Judge  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"


def items(split: str, rows: int | None) -> list[dict[str, Any]]:
    lines = (DATA / f"halueval_qa_{split}.jsonl").read_text().splitlines()[:rows]
    out = []
    for row in map(json.loads, lines):
        for answer, label in ((row["right_answer"], 1), (row["hallucinated_answer"], 0)):
            out.append(dict(split=split, id=row["id"], label=label, answer=answer,
                            context=row["knowledge"], question=row["question"]))
    return out


def judge_all(judge: Judge, todo: list[dict[str, Any]], sink: Path) -> list[dict[str, Any]]:
    done = {}
    if sink.exists():
        for line in sink.read_text().splitlines():
            record = json.loads(line)
            done[(record["split"], record["id"], record["label"])] = record
    settings = judge.settings
    with sink.open("a") as out:
        for item in todo:
            key = (item["split"], item["id"], item["label"])
            if key in done:
                continue
            request = requests.grounded(item["answer"], item["context"], item["question"],
                                        Threshold(settings.threshold, "default"),
                                        settings.policy)
            started = time.perf_counter()
            verdict = judge_grounded(judge, request, "sentences")
            record = dict(split=item["split"], id=item["id"], label=item["label"],
                          score=verdict.score, passed=verdict.passed,
                          seconds=time.perf_counter() - started,
                          tokens=verdict.prompt_tokens + verdict.completion_tokens,
                          claims=len(verdict.parts) or 1, chars=len(item["answer"]))
            out.write(json.dumps(record) + "\n")
            out.flush()
            done[key] = record
            print(item["split"], item["id"], item["label"], f"{verdict.score:.3f}",
                  f"{record['seconds']:.1f}s", flush=True)
    return [done[(i["split"], i["id"], i["label"])] for i in todo]


def figures(scores: list[float], labels: list[int], threshold: float) -> dict[str, float]:
    matrix = confusion(scores, labels, threshold)
    return dict(auroc=auroc(scores, labels), accuracy=matrix.accuracy,
                balanced_accuracy=matrix.balanced_accuracy, tpr=matrix.tpr, tnr=matrix.tnr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--dev-rows", type=int, default=None, help="default: all 200")
    parser.add_argument("--train-rows", type=int, default=None, help="default: all 100")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    settings = Settings(model=args.model, timeout=1e6)  # no deadline: a run may be paused
    judge = Judge(create_backend(settings.backend_config()), settings)
    sink = RESULTS / f"grounded-{args.model}.jsonl"
    train = judge_all(judge, items("train", args.train_rows), sink)
    dev = judge_all(judge, items("dev", args.dev_rows), sink)
    judge.backend.close()

    fitted = fit_threshold([r["score"] for r in train], [r["label"] for r in train])
    # Length: shorter is grounded; 1 / (1 + characters) keeps that order inside 0..1,
    # where the threshold fitting looks.
    def by_length(records: list[dict[str, Any]]) -> list[float]:
        return [1.0 / (1.0 + r["chars"]) for r in records]

    length_fitted = fit_threshold(by_length(train), [r["label"] for r in train])
    dev_scores, dev_labels = [r["score"] for r in dev], [r["label"] for r in dev]
    summary = dict(
        model=args.model, train_items=len(train), dev_items=len(dev),
        judge_at_default=figures(dev_scores, dev_labels, settings.threshold),
        fitted_threshold=fitted,
        judge_at_fitted=figures(dev_scores, dev_labels, fitted),
        length_fitted_threshold=length_fitted,
        length_only=figures(by_length(dev), dev_labels, length_fitted),
        seconds_per_verdict_median=statistics.median(r["seconds"] for r in dev),
        tokens_per_verdict_mean=statistics.mean(r["tokens"] for r in dev),
        claims_per_answer_mean=statistics.mean(r["claims"] for r in dev),
    )
    (RESULTS / f"grounded-{args.model}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
