"""The docs site builds in strict mode, so a broken link or a page left out of the
navigation fails the suite, and the test shows that a broken link does fail it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file",
         str(root / "mkdocs.yml"), "--site-dir", str(site)],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    built = build(ROOT, tmp_path / "site")
    assert built.returncode == 0, built.stderr[-3000:]
    assert (tmp_path / "site" / "sampling-and-drift" / "index.html").exists()
    assert (tmp_path / "site" / "api" / "index.html").exists()


def test_a_broken_link_or_a_page_out_of_the_nav_fails_the_build(tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    page = copy / "docs" / "grounding.md"
    page.write_text(page.read_text() + "\nSee [the missing page](no-such-page.md).\n")
    broken = build(copy, tmp_path / "site")
    assert broken.returncode != 0
    assert "no-such-page.md" in broken.stderr
    page.write_text(page.read_text().replace("[the missing page](no-such-page.md)", ""))
    (copy / "docs" / "orphan.md").write_text("# Not in the navigation\n")
    orphan = build(copy, tmp_path / "site")
    assert orphan.returncode != 0 and "orphan.md" in orphan.stderr
