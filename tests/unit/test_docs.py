"""The reference docs cannot drift from the code. docs/api.md is rendered from the
docstrings by mkdocstrings (tests/unit/test_docs_site.py builds it); these tests check
that it names every public symbol, hook and marker keyword, and that the configuration
table names every setting with its real default."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import pytest_llmjudge
from pytest_llmjudge import hookspecs
from pytest_llmjudge.assertions.agents import TOOLS_MARKER, TOOLS_MARKER_KEYWORDS
from pytest_llmjudge.assertions.checklist import CHECKLIST_MARKER, MARKER_KEYWORDS
from pytest_llmjudge.assertions.sampled import SAMPLE_MARKER, SAMPLE_MARKER_KEYWORDS
from pytest_llmjudge.config.options import OPTIONS
from pytest_llmjudge.config.thresholds import ORDER
from pytest_llmjudge.judging.policy import POLICY_KEYWORDS

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[2] / "docs"
API = (DOCS / "api.md").read_text(encoding="utf-8")


def test_every_public_name_and_hook_has_a_reference_entry() -> None:
    hooks = [name for name, _ in inspect.getmembers(hookspecs, inspect.isfunction)
             if name.startswith("pytest_llmjudge_")]
    assert hooks
    wanted = [f"::: pytest_llmjudge.{name}" for name in pytest_llmjudge.__all__]
    wanted += [f"::: pytest_llmjudge.hookspecs.{name}" for name in hooks]
    assert [line for line in wanted if line not in API.splitlines()] == []


def _section(heading: str) -> str:
    start = API.index(heading)
    end = API.find("\n#", start + len(heading))
    return API[start:end]


@pytest.mark.parametrize(("marker", "keywords"), [
    ("llmjudge", (*POLICY_KEYWORDS, "threshold")),
    (CHECKLIST_MARKER, MARKER_KEYWORDS),
    (TOOLS_MARKER, TOOLS_MARKER_KEYWORDS),
    (SAMPLE_MARKER, SAMPLE_MARKER_KEYWORDS),
])
def test_the_markers_section_names_every_keyword(marker: str, keywords: tuple[str, ...]
                                                 ) -> None:
    section = _section(f"### `@pytest.mark.{marker}(")
    assert [k for k in keywords if f"`{k}`" not in section] == []


def test_the_threshold_order_is_the_code_s() -> None:
    section = " ".join(_section("## Where a threshold comes from").split())
    assert " > ".join(f"`{source}`" for source in ORDER) in section


def test_the_configuration_table_has_every_setting_with_its_default() -> None:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]+) \|", text, flags=re.MULTILINE))
    expected = {o.name: f"`{o.default}`" if o.default else "(none)" for o in OPTIONS}
    assert {name: rows.get(name, "").strip() for name in expected} == expected
