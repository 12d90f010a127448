"""Fitted thresholds and heads kept in a file that later runs apply:
``llmjudge-calibration.json``.

An entry holds one threshold for one judge (backend, model name and file hash), one
prompt version and one kind of judgment, with what it was fitted on. A run applies an
entry only where all three match and the test gave no threshold itself; an entry for
another judge or prompt is ignored, with a warning naming both, so a model or prompt
change can never inherit a threshold fitted for something else. Heads
(calibration/heads.py) are kept the same way, keyed alike, under "heads" (version 2;
a version 1 file, thresholds only, is still read).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import JudgeConfigError
from ..storage.files import write_atomically
from .heads import Head, head_from_json
from .json_fields import field_problem

FORMAT = "pytest-llmjudge calibration"
VERSION = 2
READS = (1, 2)
KIND_OF_TASK = {"criterion": "judged", "grounded": "grounded", "correct": "correct",
                "checklist": "checklist", "conversation": "judged",
                "conversation_checklist": "checklist", "trajectory": "trajectory"}


# The heads that ship in the package (calibration/packaged/heads.json), fitted for the
# default judge: see benchmarks/quality.py.
PACKAGED = "the packaged heads"


def packaged_heads() -> list[Head]:
    from importlib.resources import files

    resource = files("pytest_llmjudge.calibration") / "packaged" / "heads.json"
    data = json.loads(resource.read_text(encoding="utf-8"))
    return [replace(head_from_json(raw, f"{PACKAGED}: head {number}"), source=PACKAGED)
            for number, raw in enumerate(data["heads"], 1)]


class CalibrationFileError(JudgeConfigError):
    """A calibration file that cannot be read."""


@dataclass(frozen=True)
class Entry:
    judge: str
    prompt: str
    kind: str
    threshold: float
    fitted_on: str  # the labels file
    n: int
    objective: str  # "balanced accuracy", "TPR >= 0.9", ...
    balanced_accuracy: float  # at the threshold, on the labels it was fitted on

    @property
    def key(self) -> tuple[str, str, str]:
        return self.judge, self.prompt, self.kind


def read(path: Path) -> list[Entry]:
    return read_all(path, with_heads=False)[0]


def read_all(path: Path, *, with_heads: bool = True) -> tuple[list[Entry], list[Head]]:
    """The thresholds and the heads of a calibration file (with_heads=False: the heads
    are left unread, so llmjudge_heads=off gets past a damaged head)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CalibrationFileError(
            f"cannot read calibration file {path} ({err}); fit it again with "
            "--llmjudge-calibrate=LABELS --llmjudge-update-calibration, or delete it") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CalibrationFileError(f"{path} is not a pytest-llmjudge calibration file")
    if data.get("version") not in READS:
        raise CalibrationFileError(
            f"{path} is calibration file version {data.get('version')!r}; this version of "
            f"pytest-llmjudge reads versions {', '.join(map(str, READS))}: fit it again")
    entries = data.get("entries")
    if not isinstance(entries, list):
        raise CalibrationFileError(f'{path}: "entries" is not a list; fit it again')
    heads = data.get("heads", []) if with_heads else []
    if not isinstance(heads, list):
        raise CalibrationFileError(f'{path}: "heads" is not a list; fit it again')
    return ([_entry(path, number, raw) for number, raw in enumerate(entries, 1)],
            [head_from_json(raw, f"{path}: head {number}")
             for number, raw in enumerate(heads, 1)])


# Each field's type, checked before an entry is used: a threshold of "0.7" or 7 from a
# hand edit must stop the run, not pass every test.
_FIELDS: dict[str, tuple[type, ...]] = {
    "judge": (str,), "prompt": (str,), "kind": (str,), "threshold": (int, float),
    "fitted_on": (str,), "n": (int,), "objective": (str,), "balanced_accuracy": (int, float)}


def _entry(path: Path, number: int, raw: object) -> Entry:
    def malformed(why: str) -> CalibrationFileError:
        return CalibrationFileError(
            f"{path}: entry {number} {why}; fix it, or fit the file again with "
            "--llmjudge-calibrate=LABELS --llmjudge-update-calibration")

    problem = field_problem(raw, _FIELDS)
    if problem is not None:
        raise malformed(problem)
    assert isinstance(raw, dict)
    for name in ("threshold", "balanced_accuracy"):
        if not math.isfinite(raw[name]) or not 0.0 <= raw[name] <= 1.0:
            raise malformed(f"has {name}={raw[name]!r}, outside 0..1")
    if raw["n"] < 1:
        raise malformed(f"was fitted on n={raw['n']} labels")
    return Entry(**raw)


def write(path: Path, entries: Sequence[Entry], heads: Sequence[Head] = ()) -> Path:
    """Merge ``entries`` and ``heads`` into the file: one for the same judge, prompt and
    kind is replaced, the others are kept."""
    old_entries, old_heads = read_all(path) if path.exists() else ([], [])
    kept = {e.key: e for e in old_entries}
    kept.update({e.key: e for e in entries})
    kept_heads = {h.key: h for h in old_heads}
    kept_heads.update({h.key: h for h in heads})
    document: dict[str, Any] = {"format": FORMAT, "version": VERSION,
                                "entries": [asdict(e) for _, e in sorted(kept.items())]}
    if kept_heads:
        document["heads"] = [h.to_json() for _, h in sorted(kept_heads.items())]
    return write_atomically(path, json.dumps(document, indent=2) + "\n")


@dataclass(frozen=True)
class Calibration:
    """The entries of one file, looked up by judge, prompt and kind."""

    path: str
    entries: tuple[Entry, ...]
    # The file's heads first, then the packaged ones (llmjudge_heads=packaged): a head
    # the team fitted for its own labels wins over the shipped one.
    heads: tuple[Head, ...] = ()

    def find_head(self, judge: str, prompt: str, kind: str,
                  features: str = "") -> tuple[Head | None, list[Head]]:
        """The head for this judge, prompt and kind, and those of this kind fitted for
        another judge or prompt (to warn about; a packaged head is never warned about:
        it only ever matches the judge it ships for). ``features`` keeps a single judge's
        heads and a panel's apart: neither is warned about to the other."""
        same_kind = [h for h in self.heads if h.kind == kind
                     and (h.features == features or not features)]
        match = next((h for h in same_kind if h.key == (judge, prompt, kind)), None)
        return match, ([] if match else [h for h in same_kind if h.source != PACKAGED])

    def find(self, judge: str, prompt: str, kind: str) -> tuple[Entry | None, list[Entry]]:
        """The matching entry, and the entries of this kind fitted for another judge or
        prompt (to warn about)."""
        same_kind = [e for e in self.entries if e.kind == kind]
        match = next((e for e in same_kind if e.key == (judge, prompt, kind)), None)
        return match, ([] if match else same_kind)
