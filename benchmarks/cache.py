"""The judge cache and the reports at 1,000 judged assertions, on a real model.

1. Record: 1,000 judged tests (one logprob verdict each, the 135M model) under
   pytest-xdist -n 2, into a fresh cache: 1,000 writes from two processes at once.
   Then every entry is read back and checked: present, a sound reply, and for the
   text its test judged. Lost or corrupt entries are counted (must be 0).
2. Replay: the same suite in record mode none (no model load, no judge call), against
   a plain-assert suite of the same 1,000 tests, interleaved run by run, so machine
   noise hits both alike. Per-assertion times and their ratio.
3. The HTML report of the replay run: its size, and its load time in headless
   Chromium (Debian's chromium, through Selenium), with the time to filter it.

    python benchmarks/cache.py            # writes benchmarks/results/cache.json
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


def project(root: Path, name: str, body: str, n: int, model: str) -> Path:
    path = root / name
    path.mkdir()
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
        expected = sum(str(i).startswith("99") for i in range(n))  # 99, 990-999
        assert shown == f"{expected} of {n} shown", shown
    finally:
        driver.quit()
    return {"load_s_median": statistics.median(loads), "load_s_max": max(loads),
            "filter_s_median": statistics.median(filters)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--model", default="smollm2-135m")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "cache.json")
    args = parser.parse_args()
    results: dict[str, Any] = {"n": args.n, "model": args.model}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        judged = project(root, "judged", JUDGED, args.n, args.model)
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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
