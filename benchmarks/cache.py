"""The judge cache and the reports at 1,000 judged assertions.

1. Record: 1,000 judged tests (one verdict each) under pytest-xdist -n 2, into a fresh
   cache: 1,000 writes from two processes at once. Every entry is then read back and
   checked: present, a sound reply, and for the text its test judged. Lost or corrupt
   entries are counted (must be 0). The judge here is a stub plugged in through the
   backend hook (the default): the store is under test, and the 135M model takes
   about 3 s per call on one core, so 1,000 real calls would take most of an hour.
2. Replay: the same suite in record mode none (no judge call), against a plain-assert
   suite of the same 1,000 tests, interleaved run by run so machine noise hits both
   alike. Per-assertion times and their ratio. Replay never reaches the judge, so
   what recorded the entries does not change these figures.
3. The same with the real 135M model at --real-n tests: judged for real, then
   replayed, for the per-assertion saving on a real judge.
4. The HTML report of the 1,000-verdict replay: its size, and its load time in
   headless Chromium (Debian's chromium, through Selenium), with the time to filter it.
5. Import: a committed export of --import-lines judgments (100,000 by default) read
   and checked (``load``), stored into a fresh cache, and a whole pytest run that
   imports it (its one test judges nothing: the import is what is timed); beside it,
   the ways of checking a line on a 2,000-line slice, side by side: the schema compiled
   again for every line (before), one compiled validator, and the quick check ``load``
   uses (the schema then only explains a refused line).

    python benchmarks/cache.py            # writes benchmarks/results/cache.json
    python benchmarks/cache.py --only import --out benchmarks/results/import.json
    python benchmarks/cache.py --only replay --repeats 5 --out benchmarks/results/replay.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
JUDGED = """
    import pytest
    from pytest_llmjudge import assert_judged

    @pytest.mark.parametrize("n", range({n}))
    def test_reply(n):
        assert_judged(f"Thanks for reaching out, customer {{n}}!", "The reply is polite",
                      threshold=0.0)
"""
# The stub judge: P(YES) 0.9 for every reply, a fixed reason.
STUB = """
import json
from pytest_llmjudge.backends.base import Completion


class Stub:
    judge_id = "stub:benchmark"
    model_name = "stub"
    supports_logprobs = True

    def complete(self, request):
        text = json.dumps({f.name: "YES" if f.name == "answer" else "stub"
                           for f in request.reply.fields})
        return Completion(text, {"answer": {"YES": 0.9, "NO": 0.1}}, 20, 4)

    def close(self):
        pass


def pytest_llmjudge_make_backend(settings):
    return Stub()
"""
PLAIN = """
    import pytest

    @pytest.mark.parametrize("n", range({n}))
    def test_reply(n):
        assert f"Thanks for reaching out, customer {{n}}!".startswith("Thanks")
"""


def pytest_run(project: Path, *args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "no:randomly", *args], cwd=project, capture_output=True,
                          text=True, timeout=3600)
    return time.perf_counter() - started, done


def project(root: Path, name: str, body: str, n: int, model: str, stub: bool = False) -> Path:
    path = root / name
    path.mkdir()
    if stub:
        (path / "conftest.py").write_text(STUB)
    (path / "pytest.ini").write_text(
        f"[pytest]\nllmjudge_model = {model}\nasyncio_default_fixture_loop_scope = function\n")
    (path / "test_suite.py").write_text(textwrap.dedent(body.format(n=n)))
    return path


def check_entries(cache: Path, n: int) -> dict[str, int]:
    """Every test's judgment present, sound and for its own text."""
    db = sqlite3.connect(cache)
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    rows = db.execute("SELECT test, judged, reply FROM judgments").fetchall()
    found: dict[str, int] = {}
    corrupt = 0
    for test, judged, reply in rows:
        try:
            text = json.loads(judged)[0]
            answer = json.loads(json.loads(reply)["text"])["answer"]
            number = int(test.rsplit("[", 1)[1].rstrip("]"))
            ok = text == f"Thanks for reaching out, customer {number}!" and answer in ("YES", "NO")
        except (ValueError, KeyError, IndexError):
            ok = False
        if ok:
            found[test] = found.get(test, 0) + 1
        else:
            corrupt += 1
    return {"rows": len(rows), "tests_with_an_entry": len(found),
            "lost": n - len(found), "corrupt": corrupt,
            "integrity_ok": int(integrity == "ok")}


def browser_load(page: Path, repeats: int, n: int) -> dict[str, float]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "chromedriver"),
                              options=options)
    loads, filters = [], []
    try:
        for _ in range(repeats):
            driver.get("about:blank")
            driver.get(page.as_uri())  # returns once the load event has fired
            timing = driver.execute_script(
                "const t = performance.getEntriesByType('navigation')[0];"
                "return t.loadEventEnd - t.startTime;")
            loads.append(float(timing) / 1000)
            box = driver.find_element(By.ID, "filter")
            started = time.perf_counter()
            box.send_keys("customer 99")
            shown = driver.find_element(By.ID, "shown").text
            filters.append(time.perf_counter() - started)
        # Each word must appear somewhere in the row: "99" also in test ids like [199].
        expected = sum("99" in str(i) for i in range(n))
        assert shown == f"{expected} of {n} shown", shown
    finally:
        driver.quit()
    return {"load_s_median": statistics.median(loads), "load_s_max": max(loads),
            "filter_s_median": statistics.median(filters)}


def real_model(root: Path, n: int, model: str, repeats: int) -> dict[str, Any]:
    """Judged for real (one process, every core), then replayed, then plain asserts."""
    judged = project(root, "real", JUDGED, n, model)
    plain = project(root, "real-plain", PLAIN, n, model)
    seconds, done = pytest_run(judged)
    assert done.returncode == 0 and f"judge calls: {n} made" in done.stdout, done.stdout[-3000:]
    replay, bare = [], []
    for _ in range(repeats):
        took, replayed = pytest_run(judged, "--llmjudge-record-mode=none")
        assert replayed.returncode == 0 and f"0 made, {n} replayed" in replayed.stdout
        replay.append(took)
        bare.append(pytest_run(plain)[0])
    return {"n": n, "judged_suite_s": seconds, "judged_s_per_assertion": seconds / n,
            "replay_suite_s": replay, "plain_suite_s": bare,
            "judged_to_replay_ratio": seconds / statistics.median(replay)}


def replay_overhead(root: Path, n: int, repeats: int) -> dict[str, Any]:
    """What a replayed judged assertion adds over a plain assert, per assertion: suites
    of n and 2n tests, replayed and plain, interleaved run by run. The slope between
    the two sizes leaves out what a run pays once (imports, opening the cache); the
    n-test difference keeps it in, as a user's suite of n tests sees it."""
    sizes = (n, 2 * n)
    judged = {size: project(root, f"judged{size}", JUDGED, size, "smollm2-135m", stub=True)
              for size in sizes}
    plain = {size: project(root, f"plain{size}", PLAIN, size, "smollm2-135m")
             for size in sizes}
    for size in sizes:
        _, done = pytest_run(judged[size])
        assert done.returncode == 0, done.stdout[-3000:]
    times: dict[str, list[float]] = {f"{kind}{size}": [] for kind in ("replay", "plain")
                                     for size in sizes}
    for _ in range(repeats):
        for size in sizes:
            seconds, done = pytest_run(judged[size], "--llmjudge-record-mode=none")
            assert f"judge calls: 0 made, {size} replayed" in done.stdout, done.stdout[-2000:]
            times[f"replay{size}"].append(seconds)
            times[f"plain{size}"].append(pytest_run(plain[size])[0])
    median = {k: statistics.median(v) for k, v in times.items()}
    slope_replay = (median[f"replay{2 * n}"] - median[f"replay{n}"]) / n
    slope_plain = (median[f"plain{2 * n}"] - median[f"plain{n}"]) / n
    return {"sizes": sizes, "repeats": repeats, "suite_s": times,
            "replay_extra_ms_per_assertion_at_n": (median[f"replay{n}"]
                                                    - median[f"plain{n}"]) / n * 1000,
            "replay_ms_per_assertion_slope": slope_replay * 1000,
            "plain_ms_per_test_slope": slope_plain * 1000,
            "replay_extra_ms_per_assertion_slope": (slope_replay - slope_plain) * 1000,
            "replay_fixed_extra_s": (median[f"replay{n}"] - median[f"plain{n}"])
            - (slope_replay - slope_plain) * n}


def import_cost(root: Path, lines: int) -> dict[str, Any]:
    import jsonschema

    from pytest_llmjudge.backends.base import Completion
    from pytest_llmjudge.storage.cache import CallKey, Entry, JudgeCache
    from pytest_llmjudge.storage.judgments_file import _LINE_SCHEMA, export, load, sound_line

    sampling = json.dumps({"temperature": 0.0}, sort_keys=True)
    entries = [Entry(CallKey("stub:benchmark", "criterion.v1", f"{n:064x}", f"{n:064x}",
                             sampling, 0, 0, (f"Thanks for reaching out, customer {n}!",)),
                     f"test_reply.py::test_reply[{n}]",
                     Completion('{"answer": "YES", "reason": "stub"}',
                                {"answer": {"YES": 0.9, "NO": 0.1}}, 20, 4))
               for n in range(lines)]
    path = root / "committed.jsonl"
    export(entries, path)
    started = time.perf_counter()
    loaded = load(path)
    load_s = time.perf_counter() - started
    assert len(loaded) == lines
    cache = JudgeCache.in_memory()
    started = time.perf_counter()
    cache.import_entries(loaded)
    store_s = time.perf_counter() - started
    cache.close()
    run = project(root, "import", 'def test_reply():\n    pass\n', 1, "smollm2-135m",
                  stub=True)
    seconds, done = pytest_run(run, f"--llmjudge-cache-import={path}")
    assert done.returncode == 0, done.stdout[-3000:]
    plain_s, _ = pytest_run(run)
    # The old check: jsonschema.validate compiles the schema for every line.
    sample = path.read_text().splitlines()[1:2001]
    started = time.perf_counter()
    for line in sample:
        jsonschema.validate(json.loads(line), _LINE_SCHEMA)
    per_line_old = (time.perf_counter() - started) / len(sample)
    validator = jsonschema.Draft7Validator(_LINE_SCHEMA)
    started = time.perf_counter()
    for line in sample:
        validator.is_valid(json.loads(line))
    per_line_new = (time.perf_counter() - started) / len(sample)
    started = time.perf_counter()
    for line in sample:
        sound_line(json.loads(line))
    per_line_quick = (time.perf_counter() - started) / len(sample)
    return {"lines": lines, "bytes": path.stat().st_size, "load_s": load_s,
            "store_s": store_s, "pytest_run_with_import_s": seconds,
            "pytest_run_without_import_s": plain_s,
            "check_ms_per_line_schema_each_line": per_line_old * 1000,
            "check_ms_per_line_one_validator": per_line_new * 1000,
            "check_ms_per_line_quick_check": per_line_quick * 1000,
            "check_ratio_schema_each_line_to_quick": per_line_old / per_line_quick}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--real-n", type=int, default=20)
    parser.add_argument("--import-lines", type=int, default=100_000)
    parser.add_argument("--only", choices=["import", "replay"], default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "cache.json")
    args = parser.parse_args()
    if args.only == "replay":
        with tempfile.TemporaryDirectory() as tmp:
            figures = replay_overhead(Path(tmp), args.n, args.repeats)
        print("replay:", json.dumps(figures, indent=1), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"replay": figures}, indent=2))
        return
    if args.only == "import":
        with tempfile.TemporaryDirectory() as tmp:
            figures = import_cost(Path(tmp), args.import_lines)
        print("import:", json.dumps(figures, indent=1), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"import": figures}, indent=2))
        return
    # The n-test parts use the stub judge; args.model judges the real-n part.
    results: dict[str, Any] = {"n": args.n, "recorded_by": "stub:benchmark",
                               "real_model": args.model}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        judged = project(root, "judged", JUDGED, args.n, args.model, stub=True)
        plain = project(root, "plain", PLAIN, args.n, args.model)
        seconds, done = pytest_run(judged, "-n", "2")
        assert done.returncode == 0, done.stdout[-3000:]
        results["record_xdist_n2_s"] = seconds
        results["record_summary"] = [line for line in done.stdout.splitlines()
                                     if line.startswith("judge calls:")]
        results["writes"] = check_entries(judged / ".llmjudge" / "judgments.sqlite3", args.n)
        print("record (-n 2):", f"{seconds:.1f}s", results["writes"], flush=True)

        replay, bare = [], []
        page = root / "report.html"
        for _ in range(args.repeats):
            seconds, done = pytest_run(judged, "--llmjudge-record-mode=none",
                                       f"--llmjudge-html={page}")
            assert done.returncode == 0, done.stdout[-3000:]
            assert f"judge calls: 0 made, {args.n} replayed" in done.stdout
            replay.append(seconds)
            seconds, done = pytest_run(plain)
            assert done.returncode == 0, done.stdout[-3000:]
            bare.append(seconds)
        r, p = statistics.median(replay), statistics.median(bare)
        results["replay"] = {
            "replay_suite_s": replay, "plain_suite_s": bare,
            "replay_ms_per_assertion": r / args.n * 1000,
            "plain_ms_per_test": p / args.n * 1000,
            "replay_extra_ms_per_assertion": (r - p) / args.n * 1000,
            "ratio_replay_to_plain": r / p,
        }
        print("replay:", json.dumps(results["replay"], indent=1), flush=True)
        results["html"] = {"bytes": page.stat().st_size, **browser_load(page, args.repeats, args.n)}
        print("html:", results["html"], flush=True)
        results["real"] = real_model(root, args.real_n, args.model, args.repeats)
        print("real:", json.dumps(results["real"], indent=1), flush=True)
        results["import"] = import_cost(root, args.import_lines)
        print("import:", json.dumps(results["import"], indent=1), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
