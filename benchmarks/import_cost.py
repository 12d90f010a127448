"""What having the plugin installed costs a run that judges nothing.

1. ``python -X importtime -c "import pytest_llmjudge.plugin"``: the summed self time
   of every module the plugin's import pulls in beyond pytest itself.
2. ``pytest --collect-only`` on a generated 200-test project, with the plugin
   enabled and with ``-p no:llmjudge``, interleaved, median wall time, as a ratio.

    python benchmarks/import_cost.py --repeats 7
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def importtime() -> tuple[float, float, list[str]]:
    def run(code: str) -> dict[str, int]:
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", code],
                             capture_output=True, text=True, check=True).stderr
        times: dict[str, int] = {}
        for line in err.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _cumulative, name = (p.strip() for p in line[12:].split("|"))
            times[name.strip()] = int(self_us)
        return times

    base = run("import pytest")
    full = run("import pytest; import pytest_llmjudge.plugin")
    extra = {name: us for name, us in full.items() if name not in base}
    own = sum(us for name, us in extra.items() if name.startswith("pytest_llmjudge"))
    return sum(extra.values()) / 1000, own / 1000, sorted(extra)


def collect_ratio(repeats: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pytest.ini").write_text("[pytest]\n")
        for module in range(20):
            body = "".join(f"def test_{i}():\n    assert {i} == {i}\n\n" for i in range(10))
            (root / f"test_m{module}.py").write_text(body)
        timings: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(repeats):
            for mode, extra in (("on", []), ("off", ["-p", "no:llmjudge"])):
                started = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                                       "-p", "no:cacheprovider", *extra], cwd=root,
                                      capture_output=True, text=True)
                timings[mode].append(time.perf_counter() - started)
                assert "200 tests collected" in done.stdout, done.stdout[-500:]
        return statistics.median(timings["on"]), statistics.median(timings["off"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    total_ms, own_ms, modules = importtime()
    print(f"import pytest_llmjudge.plugin beyond pytest: {total_ms:.1f} ms self time over "
          f"{len(modules)} modules ({own_ms:.1f} ms in pytest_llmjudge itself)")
    heavy = [m for m in modules if m.split(".")[0] in ("llama_cpp", "litellm", "numpy",
                                                        "jsonschema", "tenacity")]
    print(f"heavy modules imported: {heavy or 'none'}")
    on, off = collect_ratio(args.repeats)
    print(f"pytest --collect-only, 200 tests, median of {args.repeats}: plugin on {on:.3f}s, "
          f"-p no:llmjudge {off:.3f}s, ratio {on / off:.3f}")


if __name__ == "__main__":
    main()
