"""Writes docs/api.md from the code: every public helper, fixture method, marker and hook,
with its keywords and defaults. ``python docs/api_reference.py`` rewrites the file;
tests/unit/test_docs.py fails when the committed file differs from what this prints,
so the reference cannot go stale."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _signature(obj: object, name: str) -> str:
    """``name(...)`` with one parameter a line, annotations as written in the source."""
    signature = inspect.signature(obj)  # type: ignore[arg-type]
    parts: list[str] = []
    star = False
    for parameter in signature.parameters.values():
        if parameter.name == "self":
            continue
        if parameter.kind is parameter.KEYWORD_ONLY and not star:
            parts.append("*")
            star = True
        text = parameter.name
        if parameter.kind is parameter.VAR_KEYWORD:
            text, star = "**" + text, True
        elif parameter.kind is parameter.VAR_POSITIONAL:
            text, star = "*" + text, True
        if parameter.annotation is not parameter.empty:
            text += f": {parameter.annotation}"
        if parameter.default is not parameter.empty:
            text += f" = {parameter.default!r}"
        parts.append(text)
    returns = signature.return_annotation
    tail = "" if returns is inspect.Signature.empty else f" -> {returns}"
    if len(name) + sum(len(p) + 2 for p in parts) < 90:
        return f"{name}({', '.join(parts)}){tail}"
    return f"{name}(\n" + "".join(f"    {p},\n" for p in parts) + f"){tail}"


def _doc(obj: object) -> str:
    return inspect.cleandoc(inspect.getdoc(obj) or "(no docstring)")


def _entry(obj: object, name: str) -> list[str]:
    return [f"### `{name}`", "", "```python", _signature(obj, name), "```", "", _doc(obj), ""]


def render() -> str:
    import pytest_llmjudge
    from pytest_llmjudge import hookspecs
    from pytest_llmjudge.assertions.agents import TOOLS_MARKER, TOOLS_MARKER_KEYWORDS
    from pytest_llmjudge.assertions.checklist import CHECKLIST_MARKER, MARKER_KEYWORDS
    from pytest_llmjudge.assertions.fixtures import BaselineFixture, JudgeFixture
    from pytest_llmjudge.assertions.sampled import SAMPLE_MARKER, SAMPLE_MARKER_KEYWORDS
    from pytest_llmjudge.config.options import OPTIONS
    from pytest_llmjudge.config.thresholds import ORDER
    from pytest_llmjudge.judging.policy import POLICY_KEYWORDS

    lines = [
        "# API reference",
        "",
        "Generated from the code by `python docs/api_reference.py`; a test fails when this",
        "file and the code disagree. Keywords left out of a call come from the closest",
        "`@pytest.mark.llmjudge` marker, then the settings ([configuration.md](configuration.md)).",
        "",
        "## Assertion helpers",
        "",
        "Import them from `pytest_llmjudge`. Each returns the `Verdict` when it passes,",
        "raises `JudgeAssertionError` (an `AssertionError`) when it fails, and raises a",
        "`JudgeError` (the test ends as ERROR) when judging could not happen.",
        "",
    ]
    helpers = sorted(n for n in pytest_llmjudge.__all__ if n.startswith("assert_"))
    for name in helpers:
        lines += _entry(getattr(pytest_llmjudge, name), name)
    lines += ["## Fixtures", "", "### `judge`", "", _doc(JudgeFixture), "",
              "Its `**policy` keywords are the polling policy's: "
              + ", ".join(f"`{k}`" for k in POLICY_KEYWORDS) + ".", ""]
    for name, member in inspect.getmembers(JudgeFixture):
        if name.startswith("_"):
            continue
        if isinstance(member, property):
            lines += [f"#### `judge.{name}`", "", _doc(member), ""]
        elif callable(member):
            lines += [f"#### `judge.{name}`", "", "```python",
                      _signature(member, f"judge.{name}"), "```", "", _doc(member), ""]
    lines += ["### `judge_checklist`", "",
              f"`judge_checklist(output)` judges the output against the test's "
              f"`@pytest.mark.{CHECKLIST_MARKER}` items and asserts the pass rate.", "",
              "### `judge_tools`", "",
              f"`judge_tools(transcript)` matches the transcript's tool calls against the "
              f"test's `@pytest.mark.{TOOLS_MARKER}(expected=[...])` (assert_tool_calls).", "",
              "### `baseline`", "", "```python", _signature(BaselineFixture.__call__, "baseline"),
              "```", "", _doc(BaselineFixture), ""]
    lines += [
        "## Markers", "",
        "### `@pytest.mark.llmjudge(...)`", "",
        "On a test, class or module (`pytestmark`). Keywords: "
        + ", ".join(f"`{k}`" for k in (*POLICY_KEYWORDS, "threshold")) + ".", "",
        f"### `@pytest.mark.{CHECKLIST_MARKER}(*items, ...)`", "",
        "The items, then keywords: " + ", ".join(f"`{k}`" for k in MARKER_KEYWORDS) + ".", "",
        f"### `@pytest.mark.{TOOLS_MARKER}(...)`", "",
        "Keywords: " + ", ".join(f"`{k}`" for k in TOOLS_MARKER_KEYWORDS)
        + " (those of assert_tool_calls; see "
        "[conversations-and-agents.md](conversations-and-agents.md)).", "",
        f"### `@pytest.mark.{SAMPLE_MARKER}(n, ...)`", "",
        "Keywords: " + ", ".join(f"`{k}`" for k in SAMPLE_MARKER_KEYWORDS)
        + "; `n` and `min_pass_rate` are required, `confidence` defaults to 0.95 and "
        "`concurrent` to False. A failure raises `SampledTestFailure` (an "
        "`AssertionError`); see [sampling-and-drift.md](sampling-and-drift.md).", "",
        "## Threshold order", "",
        "Highest first: " + " > ".join(f"`{source}`" for source in ORDER)
        + " (see [configuration.md](configuration.md#where-a-threshold-comes-from)).", "",
        "## Hooks", "",
    ]
    for name, hook in inspect.getmembers(hookspecs, inspect.isfunction):
        if name.startswith("pytest_llmjudge_"):
            lines += _entry(hook, name)
    lines += ["## Settings", "",
              "Each is `--llmjudge-NAME`, ini `llmjudge_NAME`, or `LLMJUDGE_NAME`.", "",
              "| name | default | meaning |", "| --- | --- | --- |"]
    for option in OPTIONS:
        default = f"`{option.default}`" if option.default else "(none)"
        lines.append(f"| `{option.name}` | {default} | {option.help} |")
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    target = HERE / "api.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
