"""Compare criterion-prompt templates on the same judge, side by side in one run.

Sets: the project's own hand-written cases (tests/cases.py), HaluEval QA items
(is the answer supported by the document?) and QAGS-XSum items (is the summary
consistent with the source?), phrased as criteria, read from ../shared/data.

    python benchmarks/criterion_prompts.py --model qwen2.5-coder-1.5b \
        --prompt pytest_llmjudge/judging/prompts/criterion.v1.txt other.txt --items 30 \
        --sets cases halueval
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_llmjudge.backends import create_backend  # noqa: E402
from pytest_llmjudge.config.settings import Settings  # noqa: E402
from pytest_llmjudge.judging import prompts  # noqa: E402
from pytest_llmjudge.judging.judge import Judge  # noqa: E402
from pytest_llmjudge.judging.requests import make_request  # noqa: E402
from tests.cases import CASES  # noqa: E402

DATA = ROOT.parent / "shared" / "data"


def auroc(pos: list[float], neg: list[float]) -> float:
    pairs = [(p > n) + 0.5 * (p == n) for p in pos for n in neg]
    return sum(pairs) / len(pairs) if pairs else float("nan")


def items(limit: int) -> dict[str, list[tuple[str, str, bool]]]:
    sets: dict[str, list[tuple[str, str, bool]]] = {
        "cases": [(c.output, c.criterion, c.expected) for c in CASES]
    }
    halu = [json.loads(x) for x in (DATA / "halueval_qa_dev.jsonl").read_text().splitlines()]
    sets["halueval"] = []
    for row in halu[:limit]:
        criterion = (f"The answer to the question \"{row['question']}\" is supported by this "
                     f"document: {row['knowledge']}")
        sets["halueval"] += [(row["right_answer"], criterion, True),
                             (row["hallucinated_answer"], criterion, False)]
    qags = [json.loads(x) for x in (DATA / "qags_xsum_dev.jsonl").read_text().splitlines()]
    sets["qags"] = [(r["summary"], f"Every fact in the text is stated in this article: "
                     f"{r['source']}", r["consistent"] >= 0.5) for r in qags[:limit]]
    return sets


def template(path: str) -> prompts.PromptTemplate:
    """A candidate criterion template file, rendered in the shipped direct reply mode.
    A file without {{reply_format}} / {{question}} placeholders is used as written."""
    raw = Path(path).read_text()
    parts = prompts._SECTION.split(raw)
    sections = {k: v.strip() for k, v in zip(parts[1::2], parts[2::2], strict=True)}
    sections.setdefault("question", "")
    task = prompts.PromptFile(Path(path).stem, Path(path).name, sections)
    return prompts.PromptTemplate(task, prompts.load_file(prompts.REPLIES), "direct")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", nargs="+", default=["qwen2.5-coder-1.5b"])
    parser.add_argument("--prompt", nargs="+", required=True)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--sets", nargs="+", default=["cases", "halueval", "qags"])
    args = parser.parse_args()
    data = items(args.items)
    for model in args.model:
        run(model, args.prompt, data, args.sets)


def run(model: str, prompt_paths: list[str], data: dict[str, list[tuple[str, str, bool]]],
        sets: list[str]) -> None:
    settings = Settings(model=model, n_ctx=4096)
    backend = create_backend(settings.backend_config())
    for path in prompt_paths:
        judge = Judge(backend, settings)
        candidate = template(path)
        judge.template = lambda request, mode, t=candidate: t  # type: ignore[method-assign]
        for name, rows in data.items():
            if name not in sets:
                continue
            pos: list[float] = []
            neg: list[float] = []
            correct = 0
            started = time.perf_counter()
            for output, criterion, expected in rows:
                verdict = judge.evaluate(make_request(output, criterion, None, 0.5))
                (pos if expected else neg).append(verdict.score)
                correct += verdict.passed == expected
            seconds = (time.perf_counter() - started) / len(rows)
            print(f"{model} {Path(path).name:22s} {name:9s} n={len(rows):3d} "
                  f"AUROC {auroc(pos, neg):.3f} acc@0.5 {correct / len(rows):.3f} "
                  f"mean P(YES) pos {statistics.mean(pos):.2f} neg {statistics.mean(neg):.2f} "
                  f"{seconds:.2f}s/item", flush=True)


if __name__ == "__main__":
    main()
