"""Generated checklists, frozen in reviewable text files beside the test (like snapshots).

The judge writes the items for an instruction once; the file keeps them, and later
runs judge against the file, so the bar cannot move under the test. The record mode
decides when a file may be written (settings.RECORD_MODES); a missing file in mode
``none`` (CI) is an error, never a silent regeneration. A file is plain text: a
header, the instruction as a JSON string, and one ``- item`` per line. People may
edit the items; anything the parser does not recognise is an error naming the line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ..errors import JudgeConfigError
from ..judging.composite import Extra
from ..session import JudgeSession
from .files import write_atomically

HEADER = "# pytest-llmjudge checklist v1"
DIRECTORY = "__llmjudge__"
MAX_ITEMS = 8  # TICK checklists are short; more items mostly repeat each other
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


class CorruptChecklistError(JudgeConfigError):
    """A checklist file that cannot be read as one."""


@dataclass(frozen=True)
class ChecklistFile:
    instruction: str
    items: tuple[str, ...]
    written_by: str = ""


@dataclass(frozen=True)
class Frozen:
    items: tuple[str, ...]
    note: str  # where the items came from, for the failure message and the report
    extra: Extra = field(default_factory=Extra)


def checklist_path(item: pytest.Item, name: object) -> Path:
    """``<test dir>/__llmjudge__/checklists/<module>/<test>[.<name>].checklist``: plain
    text, but not ``.txt``, which pytest's doctest plugin collects as ``test*.txt``."""
    module = Path(item.path)
    test = item.nodeid.split("::", 1)[1] if "::" in item.nodeid else item.name
    stem = _UNSAFE.sub("-", test.replace("::", ".")).strip("-")
    if name is not None:
        if not isinstance(name, str) or not _NAME.match(name):
            raise JudgeConfigError(
                f"name={name!r} must be letters, digits, '_' or '-'; it becomes part of "
                "the checklist's file name")
        stem += f".{name}"
    return module.parent / DIRECTORY / "checklists" / module.stem / f"{stem}.checklist"


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
    from ..assertions.checklist import parse_items

    def corrupt(number: int, why: str) -> CorruptChecklistError:
        return CorruptChecklistError(
            f"checklist file {path}, line {number}: {why}. Fix the file, or delete it and "
            "run with --llmjudge-update-checklists to have the judge write it again")

    lines = text.splitlines()
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


def frozen_items(session: JudgeSession, item: pytest.Item | None, instruction: str,
                 name: object, where: str) -> Frozen:
    """The items for ``instruction``: from its file, or written by the judge, as the
    record mode allows."""
    if item is None:
        raise JudgeConfigError(f"{where}: a generated checklist is kept beside its test; "
                               "call it from a running test")
    settings = session.settings
    mode = settings.record_mode
    path = checklist_path(item, name)
    claimed = session.checklist_files.setdefault(str(path), instruction)
    if claimed != instruction:
        raise JudgeConfigError(
            f"{where}: two generated checklists with different instructions in "
            f"{item.nodeid} would share {path}; give each one a name=")
    rewrite = settings.update_checklists or mode == "all"
    if mode != "off" and not rewrite:
        stored = read(path)
        if stored is not None and stored.instruction == instruction:
            return Frozen(stored.items, f"checklist from {path}")
        if mode == "none" or (mode == "once" and stored is not None):
            problem = ("there is no checklist file" if stored is None else
                       "the checklist file was written for a different instruction")
            raise JudgeConfigError(
                f"{where}: {problem} {path} for {item.nodeid}, and record mode {mode!r} "
                "does not let the judge write one. Run once with "
                "--llmjudge-update-checklists, review the file and commit it")
    from ..judging.written_lists import write_list

    written = write_list(session.judge, "checklist", instruction, max_items=MAX_ITEMS,
                         what="checklist items")
    extra = Extra(written.prompt_tokens, written.completion_tokens, written.attempts,
                  replayed=written.replayed, dry_run=written.dry_run)
    if written.dry_run:  # a placeholder list: never written to a file for review
        return Frozen(written.items, "checklist not written: dry run", extra)
    if mode == "off" and not settings.update_checklists:
        return Frozen(written.items, "checklist written by the judge for this run only "
                                     "(record mode off)", extra)
    write(path, ChecklistFile(instruction, written.items,
                              f"{written.judge_id} {written.prompt_version}"))
    return Frozen(written.items, f"checklist written by the judge to {path}; review it "
                                 "and commit it", extra)
