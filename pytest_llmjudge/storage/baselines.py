"""Stored baselines: a named output per test, kept in a reviewable file beside the
test, the way snapshot tools keep snapshots.

``baseline("refund-question", output)`` returns the stored output. With
``--llmjudge-update-baselines`` it stores ``output`` instead (and returns it), so
``assert_not_worse(output, baseline("refund-question", output))`` records in one run
and gates in the next. A missing baseline is an error that says how to record it,
never a pass. One JSON file per test, so pytest-xdist workers never share a file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ..errors import JudgeConfigError
from .files import write_atomically

FORMAT = "pytest-llmjudge baselines"
VERSION = 1
DIRECTORY = "__llmjudge__"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class BaselineFileError(JudgeConfigError):
    """A baseline file that cannot be read as one."""


def baseline_path(item: pytest.Item) -> Path:
    """``<test dir>/__llmjudge__/baselines/<module>/<test>.json``."""
    module = Path(item.path)
    test = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.name
    stem = _UNSAFE.sub("-", test.replace("::", ".")).strip("-")
    return module.parent / DIRECTORY / "baselines" / module.stem / f"{stem}.json"


def read(path: Path) -> dict[str, str]:
    """The baselines stored in ``path`` (empty when there is no file)."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as err:
        raise BaselineFileError(f"cannot read baseline file {path}: {err}") from None

    def invalid(why: str) -> BaselineFileError:
        return BaselineFileError(
            f"baseline file {path} is not valid: {why}. Fix it, or delete it and record the "
            "baselines again with --llmjudge-update-baselines")

    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as err:
        raise invalid(f"not JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise invalid(f'its "format" is not {FORMAT!r}')
    if data.get("version") != VERSION:
        raise invalid(f'version {data.get("version")!r}, this plugin reads version {VERSION}')
    stored = data.get("baselines")
    if not isinstance(stored, dict):
        raise invalid('"baselines" is not an object of name: output')
    for name, output in stored.items():
        if not isinstance(output, str) or not output.strip():
            raise invalid(f"baseline {name!r} is not a non-empty string")
    return dict(stored)


def write(path: Path, nodeid: str, baselines: dict[str, str]) -> None:
    """Atomic, sorted, one key per line: a change shows up as a small diff."""
    document = {"format": FORMAT, "version": VERSION, "test": nodeid,
                "baselines": dict(sorted(baselines.items()))}
    try:
        write_atomically(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    except OSError as err:
        raise JudgeConfigError(f"could not write baseline file {path} ({err})") from None


class BaselineFixture:
    """``baseline(name, output=None)``: the stored output named ``name`` for this test."""

    def __init__(self, item: pytest.Item, update: bool) -> None:
        self._item = item
        self._update = update
        self.path = baseline_path(item)

    def __call__(self, name: str, output: str | None = None) -> str:
        __tracebackhide__ = True
        if not isinstance(name, str) or not name.strip():
            raise JudgeConfigError(f"baseline(): the name must be a non-empty str, got {name!r}")
        if self._update:
            if not isinstance(output, str) or not output.strip():
                raise JudgeConfigError(
                    f"baseline({name!r}): --llmjudge-update-baselines records the output "
                    "passed with it, and none was: call baseline(name, output)")
            stored = read(self.path)
            stored[name] = output
            write(self.path, self._item.nodeid, stored)
            return output
        stored = read(self.path)
        if name not in stored:
            where = "in " + str(self.path) if self.path.exists() else f"({self.path} is missing)"
            raise JudgeConfigError(
                f"no baseline {name!r} recorded for {self._item.nodeid} {where}. Record it "
                f"with pytest --llmjudge-update-baselines (the test must pass the output: "
                f"baseline({name!r}, output)), review the file and commit it")
        return stored[name]
