"""Seconds per judged assertion for each packaged model, and the plugin's overhead
against a bare llama-cpp-python call on the same prompt, same loaded model, same run.

The bare call is what a hand-rolled judge would do: create_chat_completion with the
same messages, a JSON-schema response format, temperature 0. The two are interleaved,
case by case, so machine noise hits both alike.

    python benchmarks/judge_overhead.py --models smollm2-135m qwen2.5-coder-0.5b qwen2.5-coder-1.5b
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
from pytest_llmjudge.judging.judge import Judge  # noqa: E402
from pytest_llmjudge.judging.prompts import untrusted_tag  # noqa: E402
from pytest_llmjudge.judging.requests import make_request  # noqa: E402
from tests.cases import CASES  # noqa: E402

# What a hand-rolled judge would ask for (no length bounds: llama-cpp-python's schema
# converter spells maxLength out as hundreds of nested grammar groups).
BARE_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string", "enum": ["YES", "NO"]},
                   "reason": {"type": "string"}},
    "required": ["answer", "reason"],
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["smollm2-135m", "qwen2.5-coder-0.5b",
                                                          "qwen2.5-coder-1.5b"])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    for model in args.models:
        settings = Settings(model=model)
        started = time.perf_counter()
        judge = Judge(create_backend(settings.backend_config()), settings)
        load_s = time.perf_counter() - started
        llm = judge.backend._llm  # type: ignore[attr-defined]
        plugin_s: list[float] = []
        bare_s: list[float] = []
        plugin_tokens: list[int] = []
        bare_tokens: list[int] = []
        bare_bad = 0
        for _ in range(args.rounds):
            # Blocks of all cases, alternating: each path gets the same KV-cache reuse
            # (the shared system prompt) and neither inherits the other's exact prompt.
            for case in CASES:
                request = make_request(case.output, case.criterion, None, 0.5)
                t0 = time.perf_counter()
                verdict = judge.evaluate(request)
                plugin_s.append(time.perf_counter() - t0)
                plugin_tokens.append(verdict.completion_tokens)
            for case in CASES:
                shown = json.dumps(case.output, ensure_ascii=False)
                messages = judge.template(make_request(case.output, case.criterion, None, 0.5),
                                          "direct").render(
                    criterion=case.criterion, output=shown, tag=untrusted_tag(case.output))
                t0 = time.perf_counter()
                reply = llm.create_chat_completion(
                    messages=[{"role": m.role, "content": m.content} for m in messages],
                    response_format={"type": "json_object", "schema": BARE_SCHEMA},
                    temperature=0.0, max_tokens=settings.max_tokens,
                )
                bare_s.append(time.perf_counter() - t0)
                bare_tokens.append(reply["usage"]["completion_tokens"])
                try:
                    json.loads(reply["choices"][0]["message"]["content"])
                except ValueError:
                    bare_bad += 1
        plugin = statistics.median(plugin_s)
        bare = statistics.median(bare_s)
        print(f"{model:20s} load {load_s:5.2f}s | assert_judged median {plugin:.2f}s "
              f"mean {statistics.mean(plugin_s):.2f}s | bare llama-cpp-python median "
              f"{bare:.2f}s ({bare_bad}/{len(bare_s)} replies not JSON) | reply tokens "
              f"{statistics.mean(plugin_tokens):.0f} vs {statistics.mean(bare_tokens):.0f} | "
              f"plugin/bare {plugin / bare:.2f}x over {len(plugin_s)} calls each", flush=True)
        judge.backend.close()


if __name__ == "__main__":
    main()
