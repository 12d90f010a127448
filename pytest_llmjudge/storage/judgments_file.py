"""Recorded judgments as a reviewable text file, to commit beside the tests.

JSON Lines: a header line naming the format and its version, then one judgment per
line, ordered by test and key, so a re-recording shows in a diff as the lines that
changed. Each line holds the key's parts (the judge, the prompt version, hashes of the
request, the sampling parameters, the poll and seed), excerpts of the judged texts,
the test that recorded it, and the judge's reply. The key is recomputed from its parts
on import, so a hand-edited or half-merged line is refused instead of replayed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import JudgeConfigError
from .cache import CallKey, Entry, completion_from_json, completion_to_json
from .files import write_atomically

FORMAT = "pytest-llmjudge judgments"
VERSION = 1
_LINE_SCHEMA = {
    "type": "object",
    "required": ["key", "test", "judge", "prompt", "texts", "request", "sampling", "poll",
                 "seed", "judged", "reply"],
    "properties": {
        "key": {"type": "string"}, "test": {"type": "string"},
        "judge": {"type": "string"}, "prompt": {"type": "string"},
        "texts": {"type": "string"}, "request": {"type": "string"},
        "sampling": {"type": "object"},
        "poll": {"type": "integer", "minimum": 0}, "seed": {"type": "integer"},
        "judged": {"type": "array", "items": {"type": "string"}},
        "reply": {
            "type": "object", "required": ["text"],
            "properties": {"text": {"type": "string"}, "choice_probs": {"type": "object"},
                           "prompt_tokens": {"type": "integer"},
                           "completion_tokens": {"type": "integer"},
                           "cost_usd": {"type": ["number", "null"]}},
        },
    },
}


class JudgmentsFileError(JudgeConfigError):
    """A judgments file that cannot be imported: wrong format or version, a bad line."""


def export(entries: Iterable[Entry], path: Path) -> int:
    lines = [json.dumps({"format": FORMAT, "version": VERSION})]
    for entry in sorted(entries, key=lambda e: (e.test, e.key.digest)):
        key = entry.key
        lines.append(json.dumps({
            "key": key.digest, "test": entry.test, "judge": key.judge, "prompt": key.prompt,
            "texts": key.texts, "request": key.request, "sampling": json.loads(key.sampling),
            "poll": key.poll, "seed": key.seed, "judged": list(key.judged),
            "reply": completion_to_json(entry.completion),
        }, sort_keys=True, ensure_ascii=False))
    write_atomically(path, "\n".join(lines) + "\n")
    return len(lines) - 1


def check_header(path: Path) -> None:
    """Fail early (at session start) on a missing file or a wrong format or version."""
    try:
        with path.open(encoding="utf-8") as handle:
            first = handle.readline()
    except OSError as err:
        raise JudgmentsFileError(
            f"cannot read judgments file {path} ({err}); export one with "
            "--llmjudge-cache-export=PATH from a run that recorded them") from None
    try:
        header = json.loads(first)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise JudgmentsFileError(
            f"{path} is not a pytest-llmjudge judgments file (its first line should be "
            f'{{"format": "{FORMAT}", "version": {VERSION}}}); export one with '
            "--llmjudge-cache-export=PATH")
    if header.get("version") != VERSION:
        raise JudgmentsFileError(
            f"{path} is judgments file version {header.get('version')!r}; this version of "
            f"pytest-llmjudge reads version {VERSION}. Re-record and export it with this "
            "version (--llmjudge-record-mode=all --llmjudge-cache-export=PATH), or install the "
            "pytest-llmjudge version that wrote it")


def load(path: Path) -> list[Entry]:
    import jsonschema

    check_header(path)
    entries = []
    with path.open(encoding="utf-8") as handle:
        next(handle)
        for number, line in enumerate(handle, start=2):
            if not line.strip():
                continue
            try:
                data: Any = json.loads(line)
                jsonschema.validate(data, _LINE_SCHEMA)
            except (json.JSONDecodeError, jsonschema.ValidationError) as err:
                why = err.msg if isinstance(err, json.JSONDecodeError) else err.message
                raise JudgmentsFileError(
                    f"{path}:{number}: not a judgment line ({why}); re-export the file, or "
                    "remove the line (its test will then record it again)") from None
            key = CallKey(data["judge"], data["prompt"], data["texts"], data["request"],
                          json.dumps(data["sampling"], sort_keys=True), data["poll"],
                          data["seed"], tuple(data["judged"]))
            if key.digest != data["key"]:
                raise JudgmentsFileError(
                    f"{path}:{number}: the key does not match the line's parts (edited by "
                    "hand, or a merge joined two versions); re-export the file, or remove "
                    "the line")
            entries.append(Entry(key, data["test"], completion_from_json(data["reply"])))
    return entries
