"""The checklist file format: generated checklists, frozen in reviewable text files
beside the test (like snapshots), and the rule every list of items obeys.

The judge writes the items for an instruction once; the file keeps them, and later
runs judge against the file, so the bar cannot move under the test. When a file may
be written is the record mode's rule (record_modes.written_file_rule). A file is plain
text: a header, the instruction as a JSON string, and one ``- item`` per line. People
may edit the items; anything the parser does not recognise is an error naming the line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import JudgeConfigError
from .files import write_atomically
from .snapshots import legacy_snapshot_path, snapshot_path

HEADER = "# pytest-llmjudge checklist v1"
# A checklist's name is part of its file name, after the test's stem (at most 150
# characters and a hash, storage/snapshots.py): 64 keeps the whole under 255 bytes.
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class CorruptChecklistError(JudgeConfigError):
    """A checklist file that cannot be read as one."""


@dataclass(frozen=True)
class ChecklistFile:
    instruction: str
    items: tuple[str, ...]
    written_by: str = ""


def parse_items(raw: object, where: str) -> tuple[str, ...]:
    """Checklist items as the user wrote them: a non-empty list of distinct strings."""
    if isinstance(raw, str):
        raise JudgeConfigError(
            f"{where}: the checklist is one string ({raw!r}); give a list of items, "
            f"e.g. items=[{raw!r}]"
        )
    if not isinstance(raw, (list, tuple)):
        raise JudgeConfigError(
            f"{where}: the checklist must be a list of str items, got {type(raw).__name__}")
    if not raw:
        raise JudgeConfigError(
            f"{where}: the checklist is empty; an empty checklist would pass anything. "
            "Give at least one item, or instruction=... to have the judge write them")
    seen: dict[str, int] = {}
    items: list[str] = []
    for number, item in enumerate(raw, 1):
        if not isinstance(item, str):
            raise JudgeConfigError(
                f"{where}: checklist item {number} is a {type(item).__name__} ({item!r}); "
                "every item must be a str, e.g. 'Mentions the order number'")
        text = " ".join(item.split())
        if not text:
            raise JudgeConfigError(f"{where}: checklist item {number} is empty")
        if text.casefold() in seen:
            raise JudgeConfigError(
                f"{where}: checklist item {number} repeats item {seen[text.casefold()]} "
                f"({text!r}); a repeat would count twice. Remove it, or weight the item "
                "with weights=[...]")
        seen[text.casefold()] = number
        items.append(text)
    return tuple(items)


def checklist_path(test_file: Path, nodeid: str, test_name: str, name: object) -> Path:
    """``<test dir>/__llmjudge__/checklists/<module>/<test>[.<name>].checklist``: plain
    text, but not ``.txt``, which pytest's doctest plugin collects as ``test*.txt``."""
    return snapshot_path(test_file, nodeid, test_name, "checklists", _suffix(name))


def legacy_checklist_path(test_file: Path, nodeid: str, test_name: str,
                          name: object) -> Path | None:
    """Where versions before 0.2 kept this checklist, if elsewhere (see snapshots)."""
    return legacy_snapshot_path(test_file, nodeid, test_name, "checklists", _suffix(name))


def _suffix(name: object) -> str:
    if name is None:
        return ".checklist"
    if not isinstance(name, str) or not _NAME.match(name):
        raise JudgeConfigError(
            f"name={name!r} must be 1 to 64 letters, digits, '_' or '-'; it becomes part "
            "of the checklist's file name")
    return f".{name}.checklist"


def render(checklist: ChecklistFile) -> str:
    lines = [
        HEADER,
        "# Written by the judge for the instruction below. Review it like a snapshot: the",
        "# test judges replies against these items. Edit them if you like; the flag",
        "# --llmjudge-update-checklists has the judge write them again.",
        f"instruction: {json.dumps(checklist.instruction, ensure_ascii=False)}",
    ]
    if checklist.written_by:
        lines.append(f"written-by: {checklist.written_by}")
    lines += [f"- {item}" for item in checklist.items]
    return "\n".join(lines) + "\n"


def parse(text: str, path: Path) -> ChecklistFile:
    def corrupt(number: int, why: str) -> CorruptChecklistError:
        return CorruptChecklistError(
            f"checklist file {path}, line {number}: {why}. Fix the file, or delete it and "
            "run with --llmjudge-update-checklists to have the judge write it again")

    # Lines end at "\n" only: the instruction is JSON, which may hold a raw U+2028.
    lines = [line.rstrip("\r") for line in text.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    if not lines or lines[0].strip() != HEADER:
        raise corrupt(1, f"the first line must be {HEADER!r}")
    instruction: str | None = None
    written_by = ""
    items: list[str] = []
    for number, line in enumerate(lines[1:], 2):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("instruction:"):
            if instruction is not None:
                raise corrupt(number, "a second instruction line")
            try:
                value = json.loads(stripped[len("instruction:"):])
            except json.JSONDecodeError as err:
                raise corrupt(number, f"the instruction is not a JSON string ({err.msg})"
                              ) from None
            if not isinstance(value, str):
                raise corrupt(number, "the instruction is not a JSON string")
            instruction = value
        elif stripped.startswith("written-by:"):
            written_by = stripped[len("written-by:"):].strip()
        elif stripped.startswith("- "):
            items.append(stripped[2:].strip())
        else:
            raise corrupt(number, f"unrecognised line {stripped[:80]!r} (items start "
                                  "with '- ', comments with '#')")
    if instruction is None:
        raise corrupt(len(lines), "no 'instruction:' line")
    if not items:
        raise corrupt(len(lines), "no items ('- ...' lines)")
    return ChecklistFile(instruction, parse_items(items, f"checklist file {path}"), written_by)


def read(path: Path) -> ChecklistFile | None:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise CorruptChecklistError(f"cannot read checklist file {path}: {err}") from None
    return parse(text, path)


def write(path: Path, checklist: ChecklistFile) -> None:
    """Atomic: a reader never sees half a file."""
    try:
        write_atomically(path, render(checklist))
    except OSError as err:
        raise JudgeConfigError(
            f"could not write the generated checklist to {path} ({err}); make the directory "
            "writable, or set llmjudge_record_mode=off to judge without keeping it") from None
