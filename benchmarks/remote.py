"""Remote judging through llama-cpp-python's OpenAI-compatible server on 127.0.0.1.

1. Seconds per judged assertion through the server vs the in-process backend, same
   model, same cases, alternating blocks in one run.
2. Throughput of 40 judged tests under pytest-xdist -n 2 with one server vs two
   servers behind litellm's Router (each server 1 thread), in one run.
3. How long a session takes to finish when its server is killed after 2 of 20 tests.

    python benchmarks/remote.py --model qwen2.5-coder-0.5b
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from servers import JudgeServer  # noqa: E402

from pytest_llmjudge.backends import create_backend  # noqa: E402
from pytest_llmjudge.config.settings import Settings  # noqa: E402
from pytest_llmjudge.judging.judge import Judge  # noqa: E402
from pytest_llmjudge.judging.requests import make_request  # noqa: E402
from tests.cases import CASES  # noqa: E402

TEST_FILE = """
from pytest_llmjudge import assert_judged

def test_{i}():
    assert_judged({output!r}, {criterion!r}, threshold=0.0)
"""


def per_assertion(model: str, rounds: int, logprobs: bool) -> None:
    server = JudgeServer(model=model, alias="judge", threads=2)
    try:
        local_settings = Settings(model=model)
        remote_settings = Settings(backend="litellm", model="openai/judge",
                                   api_base=(server.url,), api_logprobs=logprobs)
        local = Judge(create_backend(local_settings.backend_config()), local_settings)
        remote = Judge(create_backend(remote_settings.backend_config()), remote_settings)
        remote.evaluate(make_request("warm up", "The text is short", None, 0.5))
        times: dict[str, list[float]] = {"local": [], "remote": []}
        for _ in range(rounds):
            for name, judge in (("local", local), ("remote", remote)):
                for case in CASES:
                    started = time.perf_counter()
                    judge.evaluate(make_request(case.output, case.criterion, None, 0.5))
                    times[name].append(time.perf_counter() - started)
        local.backend.close()
    finally:
        server.stop()
    lo, re_ = statistics.median(times["local"]), statistics.median(times["remote"])
    mode = "on" if logprobs else "off"
    print(f"[1] {model} (server logprobs {mode}): in-process median {lo:.2f}s, "
          f"through the server median {re_:.2f}s, "
          f"server/in-process {re_ / lo:.2f}x ({len(times['local'])} calls each)", flush=True)


def _project(root: Path, count: int) -> None:
    (root / "pytest.ini").write_text("[pytest]\nllmjudge_backend = litellm\n"
                                     "llmjudge_model = openai/judge\n")
    for i in range(count):
        case = CASES[i % len(CASES)]
        (root / f"test_j{i}.py").write_text(TEST_FILE.format(i=i, output=case.output,
                                                             criterion=case.criterion))


def _pytest(root: Path, *args: str) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *args], cwd=root, capture_output=True, text=True)
    return time.perf_counter() - started, done.stdout.strip().splitlines()[-1]


def throughput(model: str, count: int, logprobs: bool) -> None:
    servers = [JudgeServer(model=model, alias="judge", threads=1) for _ in range(2)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            _project(root, count)
            flag = f"--llmjudge-api-logprobs={'true' if logprobs else 'false'}"
            one, one_line = _pytest(root, "-n", "2", flag,
                                    f"--llmjudge-api-base={servers[0].url}")
            both = ",".join(s.url for s in servers)
            two, two_line = _pytest(root, "-n", "2", flag, f"--llmjudge-api-base={both}")
    finally:
        for server in servers:
            server.stop()
    print(f"[2] {model} (logprobs {'on' if logprobs else 'off'}), {count} judged tests, "
          f"xdist -n 2: one server {one:.1f}s "
          f"({count / one:.2f} tests/s, {one_line}); two servers via Router {two:.1f}s "
          f"({count / two:.2f} tests/s, {two_line}); speed-up {one / two:.2f}x", flush=True)


def killed_server(model: str) -> None:
    server = JudgeServer(model=model, alias="judge", threads=2)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            _project(root, 20)
            (root / "test_j01_kill.py").write_text(
                f"import os, signal\n\ndef test_kill():\n"
                f"    os.kill({server.process.pid}, signal.SIGKILL)\n")
            report = root / "report.json"
            seconds, line = _pytest(root, f"--llmjudge-api-base={server.url}",
                                    f"--llmjudge-report={report}")
            outcomes = [t["outcome"] for t in json.loads(report.read_text())["tests"]]
    finally:
        server.stop()
    print(f"[3] {model}: session with its server killed after 2 of 21 tests finished in "
          f"{seconds:.1f}s ({line}); report outcomes: {outcomes.count('passed')} passed, "
          f"{outcomes.count('error')} error", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--parts", nargs="+", default=["1", "2", "3"])
    parser.add_argument("--no-logprobs", action="store_true",
                        help="score the hard answer (slow logprobs in llama-cpp-python's server)")
    args = parser.parse_args()
    if "1" in args.parts:
        per_assertion(args.model, args.rounds, not args.no_logprobs)
    if "2" in args.parts:
        throughput(args.model, args.count, not args.no_logprobs)
    if "3" in args.parts:
        killed_server(args.model)


if __name__ == "__main__":
    main()
