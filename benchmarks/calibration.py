"""Calibration on the shared dev splits: accuracy before and after a fitted threshold.

HaluEval QA: fit on rows 0-99 (each row gives a right and a hallucinated answer, so
200 labelled examples), evaluate on rows 100-199. QAGS-XSum: fit on the first 60
summaries, evaluate on the last 60. The score is the grounded judgment's P(YES) (the
default logprob strategy); the threshold is fitted by pytest_llmjudge.calibration.metrics, the
code the calibration run uses, maximising balanced accuracy.

Two sources of scores:

    python benchmarks/calibration.py scores   # per-item scores of benchmarks/accuracy.py
    python benchmarks/calibration.py labels   # write the splits as labels files for
                                              # python -m pytest_llmjudge calibrate

``scores`` reads benchmarks/results/accuracy-<model>-direct.jsonl (written by
``benchmarks/accuracy.py run --pass direct``), seed 0, and says how many items of each
split it found. ``labels`` writes the splits for an end-to-end run (docs/calibration.md
has the commands): fit with --llmjudge-update-calibration on the fit file, then
calibrate the eval file with --llmjudge-calibration-file= (the default threshold) and
without it (the fitted one).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_llmjudge.calibration import metrics  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
MODELS = ("qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b")


def split_of(dataset: str, item_id: str) -> str | None:
    index = int(item_id.rsplit("-", 1)[1])
    if dataset == "halueval_qa_dev":
        return "fit" if index < 100 else "eval" if index < 200 else None
    return "fit" if index < 60 else "eval" if index < 120 else None


def scores(model: str) -> dict[str, dict[str, tuple[list[float], list[int]]]]:
    out: dict[str, dict[str, tuple[list[float], list[int]]]] = {}
    path = RESULTS / f"accuracy-{model}-direct.jsonl"
    seen = set()
    for line in path.read_text().splitlines():
        row = json.loads(line)
        key = (row["dataset"], row["id"], row["label"])
        if row["seed"] != 0 or key in seen:
            continue
        seen.add(key)
        split = split_of(row["dataset"], row["id"])
        if split is None:
            continue
        bucket = out.setdefault(row["dataset"], {}).setdefault(split, ([], []))
        bucket[0].append(float(row["votes"][0]["p_yes"]))
        bucket[1].append(int(row["label"]))
    return out


def evaluate(fit: tuple[list[float], list[int]],
             held: tuple[list[float], list[int]]) -> dict[str, Any]:
    threshold = metrics.fit_threshold(*fit)
    result: dict[str, Any] = {"fit_n": len(fit[0]), "eval_n": len(held[0]),
                              "fitted_threshold": threshold}
    for name, t in (("before", 0.5), ("after", threshold)):
        matrix = metrics.confusion(*held, t)
        result[name] = {
            "threshold": t,
            "accuracy": metrics.bootstrap(
                lambda s, y, t=t: metrics.confusion(s, y, t).accuracy, *held).text(),
            "balanced_accuracy": round(matrix.balanced_accuracy, 3),
            "tpr": round(matrix.tpr, 3), "tnr": round(matrix.tnr, 3)}
    result["eval_auroc"] = metrics.bootstrap(metrics.auroc, *held).text()
    return result


def write_labels(out: Path) -> None:
    """The splits as labels files (kind grounded) for the calibration command."""
    out.mkdir(parents=True, exist_ok=True)
    halu = [json.loads(x) for x in (DATA / "halueval_qa_dev.jsonl").read_text().splitlines()]
    qags = [json.loads(x) for x in (DATA / "qags_xsum_dev.jsonl").read_text().splitlines()]
    for name, rows in (("halueval-fit", halu[:100]), ("halueval-eval", halu[100:200])):
        lines = [json.dumps({"kind": "grounded", "output": answer, "criteria": "grounded",
                             "context": r["knowledge"], "question": r["question"],
                             "label": label})
                 for r in rows for answer, label in ((r["right_answer"], 1),
                                                     (r["hallucinated_answer"], 0))]
        (out / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    for name, rows in (("qags-fit", qags[:60]), ("qags-eval", qags[60:120])):
        lines = [json.dumps({"kind": "grounded", "output": r["summary"], "criteria": "grounded",
                             "context": r["source"], "label": int(r["consistent"] >= 0.5)})
                 for r in rows]
        (out / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    print(f"labels files written to {out} (outside the repository: derived from shared data)")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("scores")
    labels = sub.add_parser("labels")
    labels.add_argument("--out", type=Path, default=Path("/tmp/llmjudge-calibration-labels"))
    args = parser.parse_args()
    if args.command == "labels":
        write_labels(args.out)
        return
    report: dict[str, Any] = {}
    for model in MODELS:
        for dataset, splits in scores(model).items():
            if "fit" not in splits or "eval" not in splits:
                continue
            report[f"{model} {dataset}"] = evaluate(splits["fit"], splits["eval"])
    print(json.dumps(report, indent=1))
    (RESULTS / "calibration.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
