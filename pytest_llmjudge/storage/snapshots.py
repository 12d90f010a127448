"""Where reviewable files kept beside a test live (baselines, generated checklists),
the way snapshot tools keep snapshots: ``<test dir>/__llmjudge__/<kind>/<module>/<test>``."""

from __future__ import annotations

import re
from pathlib import Path

DIRECTORY = "__llmjudge__"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def snapshot_path(test_file: Path, nodeid: str, fallback_name: str, kind: str,
                  suffix: str) -> Path:
    """The file of ``kind`` (a folder name) for the test ``nodeid`` in ``test_file``;
    ``fallback_name`` names a test whose node id has no ``::`` part. ``suffix`` ends
    the file name, e.g. ``.json``."""
    test = nodeid.split("::", 1)[1] if "::" in nodeid else fallback_name
    stem = _UNSAFE.sub("-", test.replace("::", ".")).strip("-")
    return test_file.parent / DIRECTORY / kind / test_file.stem / f"{stem}{suffix}"
