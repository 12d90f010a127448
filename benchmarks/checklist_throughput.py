"""Checklist items per second with concurrency on versus off, against a two-slot
local server: two llama-cpp-python servers on 127.0.0.1 (one thread each) behind the
litellm backend's router, so two calls can run at once.

One 6-item checklist is judged ``--rounds`` times per setting, alternating the
settings round by round in one run (these machines are noisy). Strategy ``single``
(one call per item, no logprobs): what is measured is how item calls overlap.

    python benchmarks/checklist_throughput.py --model qwen2.5-coder-0.5b --rounds 4
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from servers import JudgeServer  # noqa: E402

from pytest_llmjudge.assertions.checklist import judge_items  # noqa: E402
from pytest_llmjudge.backends import create_backend  # noqa: E402
from pytest_llmjudge.config.settings import Settings  # noqa: E402
from pytest_llmjudge.judging.judge import Judge  # noqa: E402
from pytest_llmjudge.judging.policy import Policy  # noqa: E402
from pytest_llmjudge.judging.requests import make_request  # noqa: E402

REPLY = ("We're sorry your order #1234 arrived damaged. We can send a replacement or refund "
         "you in full, whichever you prefer. Reply to this email with a photo of the damage.")
ITEMS = ["Mentions the order number", "Apologises for the damage",
         "Offers a refund or a replacement", "Does not promise a delivery date",
         "Tells the customer what to do next", "Is polite"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    servers = [JudgeServer(model=args.model, alias="judge", threads=1) for _ in range(2)]
    try:
        judges = {}
        for name, concurrency in (("concurrency on (4)", 4), ("concurrency off (1)", 1)):
            settings = Settings(backend="litellm", model="openai/judge",
                                api_base=tuple(s.url for s in servers),
                                api_logprobs=False, concurrency=concurrency)
            judges[name] = Judge(create_backend(settings.backend_config()), settings)
        requests = [make_request(REPLY, item, None, 0.5, task="checklist",
                                 inputs=[("instruction", None)],
                                 policy=Policy(strategy="single")) for item in ITEMS]
        for judge in judges.values():  # warm up: first calls negotiate the reply format
            judge_items(judge, requests, (1.0,) * len(ITEMS), 1.0)
        times: dict[str, list[float]] = {name: [] for name in judges}
        for _ in range(args.rounds):
            for name, judge in judges.items():
                started = time.perf_counter()
                judge_items(judge, requests, (1.0,) * len(ITEMS), 1.0)
                times[name].append(time.perf_counter() - started)
        print(f"{args.model}, two servers x 1 thread, {len(ITEMS)}-item checklist, "
              f"{args.rounds} rounds each, alternating")
        for name, seconds in times.items():
            median = statistics.median(seconds)
            print(f"{name:20} median {median:6.2f} s per checklist, "
                  f"{len(ITEMS) / median:5.2f} items/s  (runs: "
                  f"{', '.join(f'{s:.2f}' for s in seconds)})")
        on, off = (statistics.median(s) for s in times.values())
        print(f"speed-up with concurrency: {off / on:.2f}x")
        for judge in judges.values():
            judge.backend.close()
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
