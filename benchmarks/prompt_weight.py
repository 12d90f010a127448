"""Every prompt template's own weight: the tokens a call pays before any text under
test, per task, in the direct reply mode, with the default 1.5B model's tokenizer
(a vocabulary-only load). ``system`` is the system message, which every call of a
task shares and a local model reads from its KV cache after the first call; ``rest``
is the template's text around the judged texts (tags, labels, the question).

    python benchmarks/prompt_weight.py [--model qwen2.5-coder-1.5b]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_llmjudge.backends.models import resolve  # noqa: E402
from pytest_llmjudge.judging.judge import TASK_PROMPTS  # noqa: E402
from pytest_llmjudge.judging.prompts import _PLACEHOLDER as PLACEHOLDER  # noqa: E402
from pytest_llmjudge.judging.prompts import load  # noqa: E402

NAMES = ("output", "context", "question_text", "reference", "instruction", "response_b")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b")
    args = parser.parse_args()
    import llama_cpp

    llm = llama_cpp.Llama(model_path=str(resolve(args.model).path), vocab_only=True,
                          verbose=False)

    def count(text: str) -> int:
        return len(llm.tokenize(text.encode(), add_bos=False, special=True))

    empty = {name: '""' for name in NAMES} | {f"tag_{name}": "1a2b3c4d" for name in NAMES}
    rows = {}
    for task, prompt in sorted(set(TASK_PROMPTS.items())):
        mode = "direct pair" if task == "pairwise" else "direct"
        template = load(prompt, mode)
        # Every other placeholder a template has (a tool's name, a turn's number...)
        # is left empty too: the weight is the template's own text.
        names = {name for section in (*template.task.sections.values(),
                                      *template.replies.sections.values())
                 for name in PLACEHOLDER.findall(section)}
        values = {name: "" for name in names} | empty
        system, user = template.render(**values | {"tag": "1a2b3c4d"})
        rows[task] = {"prompt": prompt, "system": count(system.content),
                      "rest": count(user.content)}
        print(f"{task:12} {prompt:15} system {rows[task]['system']:4}  rest "
              f"{rows[task]['rest']:4}")
    out = ROOT / "benchmarks" / "results" / "prompt_weight.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"model": args.model, "templates": rows}, indent=2))


if __name__ == "__main__":
    main()
