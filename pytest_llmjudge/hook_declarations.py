"""The ``llmjudge_hooks`` entry point: the plugin's hook declarations and nothing else.

``-p no:llmjudge`` turns the plugin off, but a conftest that implements one of its
hooks (``pytest_llmjudge_verdict``) would then stop the run with "unknown hook". This
entry point stays loaded and declares them, so the conftest's hook is simply never
called. It imports pluggy only.
"""

from __future__ import annotations

from typing import Any

from . import hookspecs


def pytest_addhooks(pluginmanager: Any) -> None:
    hookspecs.declare(pluginmanager)
