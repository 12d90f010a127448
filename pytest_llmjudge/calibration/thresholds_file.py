"""Fitted thresholds kept in a file that later runs apply: ``llmjudge-calibration.json``.

An entry holds one threshold for one judge (backend, model name and file hash), one
prompt version and one kind of judgment, with what it was fitted on. A run applies an
entry only where all three match and the test gave no threshold itself; an entry for
another judge or prompt is ignored, with a warning naming both, so a model or prompt
change can never inherit a threshold fitted for something else.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import JudgeConfigError
from ..storage.files import write_atomically

FORMAT = "pytest-llmjudge calibration"
VERSION = 1
KIND_OF_TASK = {"criterion": "judged", "grounded": "grounded", "correct": "correct",
                "checklist": "checklist"}


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
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CalibrationFileError(
            f"cannot read calibration file {path} ({err}); fit it again with "
            "--llmjudge-calibrate=LABELS --llmjudge-update-calibration, or delete it") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CalibrationFileError(f"{path} is not a pytest-llmjudge calibration file")
    if data.get("version") != VERSION:
        raise CalibrationFileError(
            f"{path} is calibration file version {data.get('version')!r}; this version of "
            f"pytest-llmjudge reads version {VERSION}: fit it again")
    entries = data.get("entries")
    if not isinstance(entries, list):
        raise CalibrationFileError(f'{path}: "entries" is not a list; fit it again')
    return [_entry(path, number, raw) for number, raw in enumerate(entries, 1)]


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

    if not isinstance(raw, dict):
        raise malformed("is not an object")
    missing = sorted(set(_FIELDS) - set(raw))
    unknown = sorted(set(raw) - set(_FIELDS))
    if missing or unknown:
        raise malformed(f"has missing fields {missing} or unknown fields {unknown}")
    for name, kinds in _FIELDS.items():
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, kinds):
            raise malformed(f"has {name}={value!r}, not a {kinds[-1].__name__}")
    for name in ("threshold", "balanced_accuracy"):
        if not math.isfinite(raw[name]) or not 0.0 <= raw[name] <= 1.0:
            raise malformed(f"has {name}={raw[name]!r}, outside 0..1")
    if raw["n"] < 1:
        raise malformed(f"was fitted on n={raw['n']} labels")
    return Entry(**raw)


def write(path: Path, entries: Sequence[Entry]) -> Path:
    """Merge ``entries`` into the file: an entry for the same judge, prompt and kind is
    replaced, the others are kept."""
    kept = {e.key: e for e in (read(path) if path.exists() else [])}
    kept.update({e.key: e for e in entries})
    document = {"format": FORMAT, "version": VERSION,
                "entries": [asdict(e) for _, e in sorted(kept.items())]}
    return write_atomically(path, json.dumps(document, indent=2) + "\n")


@dataclass(frozen=True)
class Calibration:
    """The entries of one file, looked up by judge, prompt and kind."""

    path: str
    entries: tuple[Entry, ...]

    def find(self, judge: str, prompt: str, kind: str) -> tuple[Entry | None, list[Entry]]:
        """The matching entry, and the entries of this kind fitted for another judge or
        prompt (to warn about)."""
        same_kind = [e for e in self.entries if e.kind == kind]
        match = next((e for e in same_kind if e.key == (judge, prompt, kind)), None)
        return match, ([] if match else same_kind)
