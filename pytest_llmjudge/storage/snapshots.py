"""Where reviewable files kept beside a test live (baselines, generated checklists),
the way snapshot tools keep snapshots: ``<test dir>/__llmjudge__/<kind>/<module>/<test>``.

A test id is made file-safe by replacing unsafe characters with ``-``. Where that
changed the id (parametrized ids such as ``[a b]``, ``[a-b]`` and ``[a/b]`` all become
``-a-b``), a short hash of the raw id follows a ``~``, which no safe id holds, so two
tests never share a file. A stem is at most 150 characters: a longer id (a long
parametrize id) is cut there and always followed by its hash. Files written before
that rule (``legacy_snapshot_path``) are still found and moved by their readers.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

DIRECTORY = "__llmjudge__"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _test_part(nodeid: str, fallback_name: str) -> str:
    return nodeid.split("::", 1)[1] if "::" in nodeid else fallback_name


# File systems allow 255 bytes a name; the stem keeps room for "~" + hash + a suffix
# such as ".judged-refund-window.checklist". A longer id is cut and always hashed.
MAX_STEM_CHARS = 150
MAX_NAME_BYTES = 255


def _stem(test: str) -> str:
    dotted = test.replace("::", ".")
    safe = _UNSAFE.sub("-", dotted).strip("-")
    if safe == dotted and len(safe) <= MAX_STEM_CHARS:
        return safe
    digest = hashlib.sha256(test.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{safe[:MAX_STEM_CHARS].rstrip('-')}~{digest}"


def snapshot_path(test_file: Path, nodeid: str, fallback_name: str, kind: str,
                  suffix: str) -> Path:
    """The file of ``kind`` (a folder name) for the test ``nodeid`` in ``test_file``;
    ``fallback_name`` names a test whose node id has no ``::`` part. ``suffix`` ends
    the file name, e.g. ``.json``."""
    stem = _stem(_test_part(nodeid, fallback_name))
    return test_file.parent / DIRECTORY / kind / test_file.stem / f"{stem}{suffix}"


def legacy_snapshot_path(test_file: Path, nodeid: str, fallback_name: str, kind: str,
                         suffix: str) -> Path | None:
    """Where versions before the hash rule kept this test's file, if that differs: a
    name several parametrized tests may have shared, so a reader checks it is its own."""
    test = _test_part(nodeid, fallback_name)
    old = _UNSAFE.sub("-", test.replace("::", ".")).strip("-")
    if old == _stem(test) or len(old + suffix) > MAX_NAME_BYTES:
        return None  # the same file; or a name no file system could have held
    return test_file.parent / DIRECTORY / kind / test_file.stem / f"{old}{suffix}"
