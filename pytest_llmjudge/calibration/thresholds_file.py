"""Fitted thresholds kept in a file that later runs apply: ``llmjudge-calibration.json``.

An entry holds one threshold for one judge (backend, model name and file hash), one
prompt version and one kind of judgment, with what it was fitted on. A run applies an
entry only where all three match and the test gave no threshold itself; an entry for
another judge or prompt is ignored, with a warning naming both, so a model or prompt
change can never inherit a threshold fitted for something else.
"""

from __future__ import annotations

import json
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
    try:
        return [Entry(**entry) for entry in data["entries"]]
    except (KeyError, TypeError) as err:
        raise CalibrationFileError(f"{path}: a malformed entry ({err}); fit it again") from None


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
