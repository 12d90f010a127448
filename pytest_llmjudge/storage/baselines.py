"""Stored baselines: a named output per test, kept in a reviewable file beside the
test, the way snapshot tools keep snapshots.

``baseline("refund-question", output)`` returns the stored output. With
``--llmjudge-update-baselines`` it stores ``output`` instead (and returns it), so
``assert_not_worse(output, baseline("refund-question", output))`` records in one run
and gates in the next. A sampled test keeps its pass rate in the same file
(``"pass_rate": {"passes": 9, "samples": 10}``), written by the same option. A missing
baseline is an error that says how to record it, never a pass. One JSON file per test,
so pytest-xdist workers never share a file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import JudgeConfigError
from ..judging.texts import surrogate_problem
from .files import write_atomically
from .snapshots import legacy_snapshot_path, snapshot_path

FORMAT = "pytest-llmjudge baselines"
VERSION = 1


class BaselineFileError(JudgeConfigError):
    """A baseline file that cannot be read as one."""


def baseline_path(test_file: Path, nodeid: str, test_name: str) -> Path:
    """``<test dir>/__llmjudge__/baselines/<module>/<test>.json``."""
    return snapshot_path(test_file, nodeid, test_name, "baselines", ".json")


def migrate(test_file: Path, nodeid: str, test_name: str) -> Path:
    """This test's baseline file, moved first from where versions before 0.2 kept it
    (a name parametrized tests could share) when that file is this test's own; one
    another test wrote stays where it is, for that test to move."""
    path = baseline_path(test_file, nodeid, test_name)
    legacy = legacy_snapshot_path(test_file, nodeid, test_name, "baselines", ".json")
    if legacy is None or path.exists() or not legacy.exists():
        return path
    try:
        owner = json.loads(legacy.read_text("utf-8")).get("test")
    except (OSError, ValueError, AttributeError):
        return path  # not readable as a baseline file: left for the user to see
    if owner == nodeid:
        path.parent.mkdir(parents=True, exist_ok=True)
        legacy.rename(path)
    return path


def read(path: Path) -> dict[str, str]:
    """The baselines stored in ``path`` (empty when there is no file)."""
    return _document(path)[0]


def read_pass_rate(path: Path) -> tuple[int, int] | None:
    """The sampled test's stored pass rate (passes, samples) in ``path``, if any."""
    return _document(path)[1]


def _document(path: Path) -> tuple[dict[str, str], tuple[int, int] | None]:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return {}, None
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
    stored = data.get("baselines", {})
    if not isinstance(stored, dict):
        raise invalid('"baselines" is not an object of name: output')
    for name, output in stored.items():
        if not isinstance(output, str) or not output.strip():
            raise invalid(f"baseline {name!r} is not a non-empty string")
        problem = surrogate_problem(output, f"baseline {name!r}")
        if problem is not None:
            raise invalid(problem)
    rate = data.get("pass_rate")
    if rate is None:
        return dict(stored), None
    passes = rate.get("passes") if isinstance(rate, dict) else None
    samples = rate.get("samples") if isinstance(rate, dict) else None
    if not (type(passes) is int and type(samples) is int and 0 <= passes <= samples
            and samples >= 1):
        raise invalid(f'"pass_rate" is {rate!r}, not {{"passes": k, "samples": n}} with '
                      "whole numbers 0 <= k <= n and n >= 1")
    return dict(stored), (passes, samples)


def write_pass_rate(path: Path, nodeid: str, passes: int, samples: int) -> None:
    """Store a sampled test's pass rate beside the test's baselines (kept as they are)."""
    stored, _ = _document(path)
    write(path, nodeid, stored, (passes, samples))


def write(path: Path, nodeid: str, baselines: dict[str, str],
          pass_rate: tuple[int, int] | None = None) -> None:
    """Atomic, sorted, one key per line: a change shows up as a small diff. A stored
    pass rate is kept unless one is given."""
    if pass_rate is None:
        pass_rate = _document(path)[1]
    document: dict[str, Any] = {"format": FORMAT, "version": VERSION, "test": nodeid,
                                "baselines": dict(sorted(baselines.items()))}
    if pass_rate is not None:
        document["pass_rate"] = {"passes": pass_rate[0], "samples": pass_rate[1]}
    try:
        write_atomically(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    except OSError as err:
        raise JudgeConfigError(f"could not write baseline file {path} ({err})") from None
