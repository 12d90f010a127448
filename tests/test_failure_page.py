"""docs/failures.md is what the failing examples really print: the page is rebuilt from a
replay of the recorded judgments (no model is loaded) and compared with the one in the
repository."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.plumbing

ROOT = Path(__file__).resolve().parent.parent


def test_the_failure_page_is_current() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "docs" / "failure_outputs.py"),
                           "--check"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
