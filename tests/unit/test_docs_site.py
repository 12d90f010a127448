"""The docs site builds in strict mode, so a broken link, a page left out of the
navigation or an API entry for a symbol that does not exist fails the suite; the tests
show that each does fail it, and that the API page is rendered from the signatures."""

from __future__ import annotations

import html
import inspect
import os
import re
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
    # The API page is rendered from the code: every helper's keywords, with defaults.
    import pytest_llmjudge

    page = (tmp_path / "site" / "api" / "index.html").read_text(encoding="utf-8")
    text = html.unescape(re.sub(r"<[^>]+>", "", page))
    for name in pytest_llmjudge.__all__:
        if name.startswith("assert_"):
            for keyword, parameter in inspect.signature(
                    getattr(pytest_llmjudge, name)).parameters.items():
                shown = (keyword if parameter.default is parameter.empty
                         else f"{keyword}: {parameter.annotation} = {parameter.default!r}")
                # The signature is laid out by a formatter, which writes double quotes.
                assert shown.replace("'", '"') in text, (name, shown)


def _copy(tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copytree(ROOT / "pytest_llmjudge", copy / "pytest_llmjudge")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    return copy


def test_a_broken_link_or_a_page_out_of_the_nav_fails_the_build(tmp_path: Path) -> None:
    copy = _copy(tmp_path)
    page = copy / "docs" / "grounding.md"
    page.write_text(page.read_text() + "\nSee [the missing page](no-such-page.md).\n")
    broken = build(copy, tmp_path / "site")
    assert broken.returncode != 0
    assert "no-such-page.md" in broken.stderr
    page.write_text(page.read_text().replace("[the missing page](no-such-page.md)", ""))
    (copy / "docs" / "orphan.md").write_text("# Not in the navigation\n")
    orphan = build(copy, tmp_path / "site")
    assert orphan.returncode != 0 and "orphan.md" in orphan.stderr


def test_an_api_entry_for_a_symbol_that_does_not_exist_fails_the_build(tmp_path: Path
                                                                         ) -> None:
    copy = _copy(tmp_path)
    api = copy / "docs" / "api.md"
    api.write_text(api.read_text() + "\n::: pytest_llmjudge.assert_no_such_thing\n")
    broken = build(copy, tmp_path / "site")
    assert broken.returncode != 0
    assert "pytest_llmjudge.assert_no_such_thing" in broken.stderr
