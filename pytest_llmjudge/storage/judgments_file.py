"""Recorded judgments as a reviewable text file, to commit beside the tests.

JSON Lines: a header line naming the format and its version, then one judgment per
line, ordered by test and key, so a re-recording shows in a diff as the lines that
changed. Each line holds the key's parts (the judge, the prompt version, hashes of the
request, the sampling parameters, the poll and seed), excerpts of the judged texts,
the test that recorded it, and the judge's reply. The key is recomputed from its parts
on import, so a hand-edited or half-merged line is refused instead of replayed.

A reply is checked as strictly as its key: probabilities must be finite numbers in
[0, 1], and two lines with one key must hold one reply. Every refusal names the file
and line. Exporting merges with the file already there: an interrupted or partial
run (a collection error, Ctrl-C, ``-k``) never shrinks a committed file; only an
explicit prune drops judgments, and only those the run showed to be stale.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import JudgeConfigError
from ..masking import mask, mask_data, secret_values
from .cache import CallKey, Entry, completion_from_json, completion_to_json
from .files import file_lock, write_atomically

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
        # The request, as the drift check re-asks it (judging/drift.py checks its fields).
        "asked": {"type": "object"},
        "reply": {
            "type": "object", "required": ["text"],
            "properties": {"text": {"type": "string"},
                           "choice_probs": {"type": "object", "additionalProperties": {
                               "type": "object", "additionalProperties": {
                                   "type": "number", "minimum": 0, "maximum": 1}}},
                           "prompt_tokens": {"type": "integer", "minimum": 0},
                           "completion_tokens": {"type": "integer", "minimum": 0},
                           "cost_usd": {"type": ["number", "null"], "minimum": 0},
                           "hidden_state": {"type": "string"}},
        },
    },
}


class JudgmentsFileError(JudgeConfigError):
    """A judgments file that cannot be imported: wrong format or version, a bad line."""


def line_of(entry: Entry, secrets: list[str] | None = None) -> str:
    """One judgment as its export line. ``secrets``: read once for a whole export."""
    key = entry.key
    line: dict[str, Any] = {
        "key": key.digest, "test": entry.test, "judge": key.judge, "prompt": key.prompt,
        "texts": key.texts, "request": key.request, "sampling": json.loads(key.sampling),
        "poll": key.poll, "seed": key.seed, "judged": list(key.excerpts),
        "reply": completion_to_json(entry.completion, secrets),
    }
    if entry.asked is not None:
        line["asked"] = json.loads(entry.asked)
    # Masked before encoding: json.dumps spells a quote or backslash in a secret as \" or \\.
    return json.dumps(mask_data(line, secrets), sort_keys=True, ensure_ascii=False)


@contextlib.contextmanager
def export_lock(path: Path) -> Iterator[None]:
    """The lock every export to ``path`` holds from reading the file to replacing it.
    It lives in the temporary directory, named by the file's real path, not beside the
    committed file, where a lock file would show up in every ``git status``; beside it
    only where the temporary directory cannot hold it (another user's folder)."""
    real = os.path.realpath(path)
    name = hashlib.sha256(real.encode("utf-8", "surrogatepass")).hexdigest()[:24]
    folder = Path(tempfile.gettempdir()) / "pytest-llmjudge-locks"
    lock = folder / f"export-{name}.lock"
    try:
        folder.mkdir(exist_ok=True)
        lock.touch()
    except OSError:
        lock = Path(real).with_name(f".{Path(real).name}.lock")
    with file_lock(lock):
        yield


def export(entries: Iterable[Entry], path: Path) -> int:
    secrets = secret_values()
    lines = [json.dumps({"format": FORMAT, "version": VERSION})]
    lines += [line_of(e, secrets)
              for e in sorted(entries, key=lambda e: (e.test, e.key.digest))]
    write_atomically(path, mask("\n".join(lines) + "\n", secrets))
    return len(lines) - 1


@dataclass(frozen=True)
class Merged:
    """What an export writes, and where each judgment came from."""

    entries: list[Entry]
    from_run: int  # judgments this run replayed or recorded
    new: int  # of those, not in the file before
    replaced: int  # of those, in the file before with another reply (re-recorded)
    kept: int  # from the file, not used this run
    pruned: int  # from the file, dropped as stale


def merge(fresh: Iterable[Entry], existing: Iterable[Entry],
          stale: Callable[[Entry], bool] = lambda entry: False) -> Merged:
    """The run's judgments over the file's: the run's reply wins for a key both hold;
    a judgment only the file holds is kept unless ``stale`` says otherwise."""
    old = {e.key.digest: e for e in existing}
    entries: list[Entry] = []
    new = replaced = 0
    for entry in fresh:
        before = old.pop(entry.key.digest, None)
        if entry.asked is None and before is not None and before.asked is not None:
            # The same call: what the file knew it asked still holds.
            entry = dataclasses.replace(entry, asked=before.asked)
        new += before is None
        replaced += before is not None and before.completion != entry.completion
        entries.append(entry)
    from_run = len(entries)
    pruned = 0
    for entry in old.values():
        if stale(entry):
            pruned += 1
        else:
            entries.append(entry)
    return Merged(entries, from_run, new, replaced, len(entries) - from_run, pruned)


def check_header(path: Path) -> None:
    """Fail early (at session start) on a missing file or a wrong format or version."""
    try:
        with path.open(encoding="utf-8-sig") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError) as err:
        raise JudgmentsFileError(
            f"cannot read judgments file {path} ({err}); export one with "
            "--llmjudge-cache-export=PATH from a run that recorded them") from None
    _check_header(path, first)


def _check_header(path: Path, first: str) -> None:
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


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def load(path: Path) -> list[Entry]:
    """Every judgment in the file, each line parsed and checked once. A byte-order mark
    (as some Windows editors write) is accepted."""
    import jsonschema

    validator = jsonschema.Draft7Validator(_LINE_SCHEMA)  # compiled once, not per line
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise JudgmentsFileError(
            f"cannot read judgments file {path} ({err}); export one with "
            "--llmjudge-cache-export=PATH from a run that recorded them") from None
    lines = text.split("\n")
    _check_header(path, lines[0])
    entries: dict[str, tuple[int, Entry]] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        entry = _entry(path, number, line, validator)
        seen = entries.get(entry.key.digest)
        if seen is None:
            entries[entry.key.digest] = (number, entry)
        elif seen[1].completion != entry.completion:
            raise JudgmentsFileError(
                f"{path}:{number}: the same judge call as line {seen[0]} (key "
                f"{entry.key.digest[:12]}) with another reply (a merge kept both versions); "
                "keep one of the two lines, or re-record the test")
    return [entry for _, entry in entries.values()]


def _entry(path: Path, number: int, line: str, validator: Any) -> Entry:
    where = f"{path}:{number}"
    try:
        data: Any = json.loads(line, parse_constant=_no_constants)
    except ValueError as err:  # JSONDecodeError, NaN and Infinity
        why = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
        raise _bad_line(where, why) from None
    if not sound_line(data):
        # The schema only explains what the quick check refused.
        error = next(iter(validator.iter_errors(data)), None)
        if error is None:
            raise _bad_line(where, "a value of the wrong type or range")
        at = "/".join(str(p) for p in error.absolute_path)
        raise _bad_line(where, f"{at + ': ' if at else ''}{error.message}")
    key = CallKey(data["judge"], data["prompt"], data["texts"], data["request"],
                  json.dumps(data["sampling"], sort_keys=True), data["poll"],
                  data["seed"], tuple(data["judged"]))
    if key.digest != data["key"]:
        raise JudgmentsFileError(
            f"{where}: the key does not match the line's parts (edited by hand, or a merge "
            "joined two versions); re-export the file, or remove the line")
    try:
        completion = completion_from_json(data["reply"])
    except ValueError as err:
        raise _bad_line(where, f"reply: {err}") from None
    asked = data.get("asked")
    return Entry(key, data["test"], completion,
                 None if asked is None else json.dumps(asked, sort_keys=True,
                                                       ensure_ascii=False))


_STRINGS = ("key", "test", "judge", "prompt", "texts", "request")


def sound_line(data: Any) -> bool:
    """Whether ``data`` is a judgment line: the checks of _LINE_SCHEMA, written out. A
    100,000-line file takes 10 s through a compiled jsonschema validator and well under
    one this way; tests/properties checks that the two always agree."""
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in _STRINGS):
        return False
    poll: Any = data.get("poll")
    seed, judged = data.get("seed"), data.get("judged")
    if not (_integer(poll) and poll >= 0 and _integer(seed) and isinstance(judged, list)
            and all(isinstance(t, str) for t in judged)
            and isinstance(data.get("sampling"), dict)):
        return False
    reply = data.get("reply")
    if not isinstance(reply, dict) or not isinstance(reply.get("text"), str):
        return False
    for name in ("prompt_tokens", "completion_tokens"):
        if name in reply and not (_integer(reply[name]) and reply[name] >= 0):
            return False
    if "cost_usd" in reply and not (reply["cost_usd"] is None or (
            _number(reply["cost_usd"]) and reply["cost_usd"] >= 0)):
        return False
    if "hidden_state" in reply and not isinstance(reply["hidden_state"], str):
        return False
    if "asked" in data and not isinstance(data["asked"], dict):
        return False
    probs = reply.get("choice_probs", {})
    return isinstance(probs, dict) and all(
        isinstance(field, dict) and all(_number(p) and 0 <= p <= 1 for p in field.values())
        for field in probs.values())


def _integer(value: Any) -> bool:
    # JSON Schema counts 1.0 as an integer; json.loads gives 1.0 as a float.
    return not isinstance(value, bool) and (
        isinstance(value, int) or (isinstance(value, float) and value.is_integer()))


def _number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float))


def _bad_line(where: str, why: str) -> JudgmentsFileError:
    return JudgmentsFileError(
        f"{where}: not a judgment line ({why[:200]}); re-export the file, or remove the line "
        "(its test will then record it again)")
