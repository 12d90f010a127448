"""Judge drift: a suite recorded with one judge, re-judged with another by the drift
command a user runs when they upgrade or downgrade their judge.

A throwaway pytest project gets one grounded test per item of a labelled split (each
HaluEval QA dev row gives two: its right answer and its hallucinated one). It is run
once with the recording judge and ``--llmjudge-cache-export``, then
``python -m pytest_llmjudge drift judgments.jsonl --llmjudge-model=OTHER`` re-judges
every recorded judgment. The drift report (agreement, Cohen's kappa, flips, mean score
shift) is printed as the command prints it, with the seconds each step took. Both runs
write no reasons (``llmjudge_reasons = none``), so each verdict is one forward pass.

    python benchmarks/drift.py --recorded qwen2.5-coder-1.5b --now qwen2.5-coder-0.5b
    python benchmarks/drift.py --rows 50   # the first 50 rows only
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"

TESTS = '''
import json
from pathlib import Path

import pytest
from pytest_llmjudge import assert_grounded

ITEMS = [json.loads(line) for line in Path(__file__).with_name("items.jsonl").read_text()
         .splitlines()]


@pytest.mark.parametrize("item", ITEMS, ids=[i["id"] for i in ITEMS])
def test_grounded(item):
    assert_grounded(item["answer"], context=item["knowledge"], question=item["question"])
'''


def items(rows: int) -> list[dict[str, object]]:
    out = []
    for line in (DATA / "halueval_qa_dev.jsonl").read_text().splitlines()[:rows]:
        row = json.loads(line)
        for kind, answer in (("right", row["right_answer"]),
                             ("hallucinated", row["hallucinated_answer"])):
            out.append({"id": f"{row['id']}-{kind}", "answer": answer,
                        "knowledge": row["knowledge"], "question": row["question"],
                        "label": int(kind == "right")})
    return out


def run(args: list[str], where: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=where, capture_output=True, text=True)
    return time.perf_counter() - started, done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recorded", default="qwen2.5-coder-1.5b")
    parser.add_argument("--now", default="qwen2.5-coder-0.5b")
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--keep", help="keep the project in this directory")
    args = parser.parse_args()
    where = Path(args.keep or tempfile.mkdtemp(prefix="llmjudge-drift-"))
    where.mkdir(parents=True, exist_ok=True)
    chosen = items(args.rows)
    (where / "items.jsonl").write_text("\n".join(json.dumps(i) for i in chosen) + "\n")
    (where / "test_items.py").write_text(TESTS)
    (where / "pytest.ini").write_text("[pytest]\nllmjudge_reasons = none\n"
                                      "llmjudge_strategy = logprob\n"
                                      "asyncio_default_fixture_loop_scope = function\n")
    recorded_s, out = run(["-m", "pytest", "-q", "-p", "no:randomly",
                           f"--llmjudge-model={args.recorded}",
                           "--llmjudge-cache-export=judgments.jsonl"], where)
    summary = [line for line in out.splitlines() if re.search(r"passed|failed", line)][-1:]
    print(f"recorded {len(chosen)} judgments with {args.recorded} in {recorded_s:.0f}s: "
          f"{' '.join(summary)}")
    if "judge calls: 0 made" in out or not (where / "judgments.jsonl").exists():
        sys.exit(f"the recording run judged nothing:\n{out[-3000:]}")
    drift_s, out = run(["-m", "pytest_llmjudge", "drift", "judgments.jsonl", "-rA", "-q",
                        f"--llmjudge-model={args.now}"], where)
    report = [line for line in out.splitlines()
              if line.startswith(("llmjudge drift", "agreement", "flips", "warning",
                                  "moved toward"))]
    print(f"re-judged with {args.now} in {drift_s:.0f}s")
    print("\n".join(report) or out[-3000:])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "drift.json").write_text(json.dumps({
        "recorded": args.recorded, "now": args.now, "judgments": len(chosen),
        "recorded_s": recorded_s, "drift_s": drift_s, "report": report}, indent=2) + "\n")


if __name__ == "__main__":
    main()
