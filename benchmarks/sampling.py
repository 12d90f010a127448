"""Sampled tests against single-sample tests: how often each catches an app whose pass
rate dropped, how many samples the sampled test takes, and how often it raises a false
alarm when nothing changed.

The app is scripted: each run answers one of the questions below rightly with
probability p, else wrongly. Each answer, right and wrong, is judged once by a real
judge (``assert_grounded``'s request, strategy logprob, reasons none), so the judge's
own mistakes are part of every figure: a sample passes when the judge passed the
answer the app gave. The runs of a test are then drawn many times over with the
plugin's own decision rule (judging/pass_rates.py), which is what the marker runs.

Schemes, each for an app at p = 0.95 (nothing changed), 0.8 and 0.6:
- ``single``: one run, one judged assert (today's test); a failure is a detection.
- ``bar n=N``: ``llmjudge_sample(n=N, min_pass_rate=0.9)`` with early stopping;
  FAIL alone, and FAIL or UNSTABLE, counted as detections.
- ``baseline n=N``: every sample taken, the rate compared by Fisher's exact test with
  one stored from a run of the app at 0.95 (also N samples); p < 0.05 is a detection.

    python benchmarks/sampling.py --model qwen2.5-coder-1.5b --trials 4000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_llmjudge.config.settings import Settings  # noqa: E402
from pytest_llmjudge.config.thresholds import Threshold  # noqa: E402
from pytest_llmjudge.judging import requests  # noqa: E402
from pytest_llmjudge.judging.judge import Judge  # noqa: E402
from pytest_llmjudge.judging.pass_rates import decide, fisher_drop  # noqa: E402
from pytest_llmjudge.judging.policy import Policy  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
# (context, question, right answer, wrong answer): written for this benchmark.
QUESTIONS = [
    ("The museum opens at 10 am and closes at 6 pm, every day but Monday.",
     "When does the museum open?", "It opens at 10 am.", "It opens at 8 am."),
    ("Order 5521 shipped on 3 May by courier and arrives within two working days.",
     "How was order 5521 sent?", "It was sent by courier.", "It was sent by post."),
    ("The X200 kettle holds 1.7 litres and has a two-year warranty.",
     "How long is the X200's warranty?", "Two years.", "Five years."),
    ("Refunds are paid to the original card within 14 days of the return arriving.",
     "Where are refunds paid?", "To the original card.", "As store credit only."),
    ("The library lends up to 8 books at a time for three weeks each.",
     "How many books can be borrowed at once?", "Up to 8 books.", "Up to 20 books."),
    ("Flight LX318 leaves Zurich at 07:40 and lands in London at 08:25 local time.",
     "When does LX318 land in London?", "At 08:25 local time.", "At 11:25 local time."),
    ("The gym's pool is 25 metres long and is closed on public holidays.",
     "How long is the pool?", "25 metres.", "50 metres."),
    ("Tickets for the concert cost 40 euros, or 30 euros for students.",
     "What do students pay?", "30 euros.", "Nothing: students get in free."),
]
POLICY = Policy(strategy="logprob", reasons="none")
AT = Threshold(0.5, "call")


def judge_answers(model: str) -> dict[str, list[bool]]:
    settings = Settings(model=model)
    from pytest_llmjudge.backends import create_backend

    judge = Judge(create_backend(settings.backend_config()), settings)
    passed: dict[str, list[bool]] = {"right": [], "wrong": []}
    scores: dict[str, list[float]] = {"right": [], "wrong": []}
    started = time.perf_counter()
    for context, question, right, wrong in QUESTIONS:
        for kind, answer in (("right", right), ("wrong", wrong)):
            verdict = judge.evaluate(requests.grounded(answer, context, question, AT, POLICY))
            passed[kind].append(verdict.passed)
            scores[kind].append(round(verdict.score, 3))
    seconds = time.perf_counter() - started
    judge.backend.close()
    print(f"judged {2 * len(QUESTIONS)} answers in {seconds:.1f}s with {judge.backend.judge_id}")
    print(f"  right answers passed: {sum(passed['right'])}/{len(QUESTIONS)} {scores['right']}")
    print(f"  wrong answers passed: {sum(passed['wrong'])}/{len(QUESTIONS)} {scores['wrong']}")
    return passed


def run_app(rng: random.Random, p: float, passed: dict[str, list[bool]]) -> bool:
    """One run of the app, judged: whether the judge passed the answer it gave."""
    question = rng.randrange(len(QUESTIONS))
    return passed["right" if rng.random() < p else "wrong"][question]


def sampled(rng: random.Random, p: float, passed: dict[str, list[bool]], n: int,
            bar: float, stop_early: bool) -> tuple[str, int, int]:
    results: list[bool] = []
    decision = decide(results, n, bar, 0.95)
    while len(results) < n:
        results.append(run_app(rng, p, passed))
        decision = decide(results, n, bar, 0.95)
        if decision.outcome == "FAIL" or (decision.outcome == "PASS" and stop_early):
            break
    return decision.outcome, decision.passes, decision.samples


def simulate(passed: dict[str, list[bool]], trials: int, seed: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for p in (0.95, 0.8, 0.6):
        rng = random.Random(seed)
        single = sum(not run_app(rng, p, passed) for _ in range(trials)) / trials
        rows.append({"scheme": "single", "p": p, "detected": single, "samples": 1.0})
        for n in (10, 20):
            outcomes = [sampled(rng, p, passed, n, 0.9, True) for _ in range(trials)]
            rows.append({
                "scheme": f"bar n={n}", "p": p,
                "detected": sum(o == "FAIL" for o, _, _ in outcomes) / trials,
                "detected_or_unstable": sum(o != "PASS" for o, _, _ in outcomes) / trials,
                "samples": statistics.mean(s for _, _, s in outcomes)})
            hits = 0
            for _ in range(trials):
                _, then, _ = sampled(rng, 0.95, passed, n, 0.9, False)
                _, now, _ = sampled(rng, p, passed, n, 0.9, False)
                hits += fisher_drop(now, n, then, n) < 0.05
            rows.append({"scheme": f"baseline n={n}", "p": p, "detected": hits / trials,
                         "samples": float(n)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    parser.add_argument("--trials", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reuse", action="store_true",
                        help="take the judged answers from the last run's results file")
    args = parser.parse_args()
    saved = RESULTS / "sampling.json"
    if args.reuse:
        passed = json.loads(saved.read_text())["judged"]
        print(f"judged answers from {saved}: right {sum(passed['right'])}/{len(QUESTIONS)}"
              f" passed, wrong {sum(passed['wrong'])}/{len(QUESTIONS)} passed")
    else:
        passed = judge_answers(args.model)
    rows = simulate(passed, args.trials, args.seed)
    print(f"\n{args.trials} trials a cell; p is the app's true rate of right answers "
          "(0.95: nothing changed, so a detection is a false alarm)")
    print(f"{'scheme':14} {'p':>5} {'detected':>9} {'or UNSTABLE':>12} {'mean samples':>13}")
    for row in rows:
        unstable = row.get("detected_or_unstable")
        print(f"{row['scheme']:14} {row['p']:>5} {row['detected']:>9.3f} "
              f"{'' if unstable is None else f'{unstable:.3f}':>12} {row['samples']:>13.2f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sampling.json").write_text(json.dumps(
        {"model": args.model, "trials": args.trials, "judged": passed, "rows": rows},
        indent=2) + "\n")


if __name__ == "__main__":
    main()
