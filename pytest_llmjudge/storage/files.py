"""Small file-system helpers shared by the model store, the judge cache and reports."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock held on ``path`` (created if missing) across processes:
    pytest-xdist workers, or two pytest runs sharing one directory."""
    try:
        import fcntl
    except ImportError:  # not POSIX: callers rely on atomic renames alone
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_atomically(target: Path, text: str) -> Path:
    """Write ``text`` to ``target`` through a temporary file and a rename, so a reader
    never sees half a file; missing parent directories are created. A symlink is
    written through: its target is replaced, and the link stays a link."""
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    # mkstemp makes the file private (0600); a report is as readable as any new file.
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return target
