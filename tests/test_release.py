"""The release as a user gets it: the wheel and sdist built, their metadata checked,
and the wheel installed into a fresh venv outside the checkout, where the examples
run against it. Prompts, report assets, the packaged heads and py.typed must be in
the wheel, and nothing may be read from the source tree.

The fresh venv takes the heavy dependencies (llama-cpp-python, the models) from the
test environment through a path file, which adds that site-packages directory to
sys.path without running its own path files: this checkout's editable install stays
out, and ``pytest_llmjudge`` is the wheel's. The examples are judged by the 135M model
(the mechanics model): what is tested is that they run, not what it thinks of them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import MECHANICS_MODEL

import pytest_llmjudge

pytestmark = pytest.mark.mechanics

ROOT = Path(__file__).resolve().parent.parent


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True,
                          text=True, timeout=900)


def test_the_wheel_installs_and_runs_the_examples_outside_the_checkout(
        tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = run(sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT,
                cwd=tmp_path)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel = next(dist.glob("*.whl"))
    sdist = next(dist.glob("*.tar.gz"))
    version = pytest_llmjudge.__version__
    assert wheel.name == f"pytest_llmjudge-{version}-py3-none-any.whl"
    assert sdist.name == f"pytest_llmjudge-{version}.tar.gz"
    checked = run(sys.executable, "-m", "twine", "check", "--strict", wheel, sdist,
                  cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("pytest_llmjudge/py.typed", "pytest_llmjudge/reporting/assets/page.css",
                   "pytest_llmjudge/reporting/assets/page.js",
                   "pytest_llmjudge/calibration/packaged/heads.json",
                   "pytest_llmjudge/judging/prompts/criterion.v1.txt"):
        assert needed in names
    assert not any(name.startswith(("tests/", "examples/", "benchmarks/")) for name in names)

    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                    cwd=tmp_path).stdout.strip())
    (site / "test-environment.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # --ignore-installed: where the test environment holds a non-editable copy of the
    # package (tox installs one), pip would see it through the .pth and skip the wheel.
    installed = run(python, "-m", "pip", "install", "--no-deps", "--no-index",
                    "--ignore-installed", wheel,
                    cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples", project, ignore=shutil.ignore_patterns(
        ".llmjudge", "__pycache__", ".pytest_cache"))
    where = run(python, "-c", "import pytest_llmjudge; print(pytest_llmjudge.__file__)",
                cwd=project)
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout + where.stderr
    result = run(python, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                 "-o", f"llmjudge_model={MECHANICS_MODEL}", "--llmjudge-report=r.json",
                 "--llmjudge-html=r.html", cwd=project)
    text = result.stdout + result.stderr
    # No path of the checkout shows up, but the test environment's, which may lie in it
    # (a .venv) and is where the heavy dependencies come from.
    test_site = str(Path(sysconfig.get_path("purelib")).parent.parent.parent)
    outside = text.replace(str(tmp_path), "").replace(test_site, "")
    assert str(ROOT) not in outside, [line for line in outside.splitlines()
                                      if str(ROOT) in line][:5]
    report = json.loads((project / "r.json").read_text())
    assert report["tests"], text[-3000:]
    assert not [t["nodeid"] for t in report["tests"] if t["error"]], text[-3000:]
    assert f"llmjudge-{version}" in text or "passed" in text
    assert "<style>" in (project / "r.html").read_text()
    # Every example ran and was judged (pass or fail is the 135M model's opinion).
    assert result.returncode in (0, 1), text[-3000:]
    assert " error" not in text.splitlines()[-1], text[-3000:]
