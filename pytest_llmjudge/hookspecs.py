"""Hooks that other plugins and conftest files can implement.

They are declared by the plugin and also by a second entry point of their own
(``llmjudge_hooks``, ``hook_declarations.py``), so a conftest that implements one keeps
working when the plugin is turned off with ``-p no:llmjudge``: pytest refuses a
conftest hook it has no declaration for. Mark an implementation
``@pytest.hookimpl(optionalhook=True)`` as well, for a run where the package is not
installed at all.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import pytest

    from .backends.base import Backend
    from .config.settings import Settings
    from .judging.verdict import Verdict

hookspec = pluggy.HookspecMarker("pytest")
HOOK_NAMES = ("pytest_llmjudge_make_backend", "pytest_llmjudge_verdict")


def declare(pluginmanager: pluggy.PluginManager) -> None:
    """Add these hook declarations unless another entry point already did: pluggy
    refuses a second declaration of one hook."""
    declared = getattr(pluginmanager.hook, HOOK_NAMES[0], None)
    if declared is None or getattr(declared, "spec", None) is None:
        pluginmanager.add_hookspecs(sys.modules[__name__])


@hookspec(firstresult=True)
def pytest_llmjudge_make_backend(settings: Settings) -> Backend | None:
    """Create the judge backend for this session; the first non-None result wins.

    Called once, lazily, when the first judged assertion runs. The built-in
    implementation handles ``llmjudge_backend = llamacpp`` and ``litellm``, from
    ``settings.backend_config()``. Example ``conftest.py``:

        @pytest.hookimpl(optionalhook=True)
        def pytest_llmjudge_make_backend(settings):
            if settings.backend == "llamacpp" and settings.model == "my-remote":
                return MyBackend()  # any object with judge_id, model_name, complete, close
    """


@hookspec
def pytest_llmjudge_verdict(item: pytest.Item, verdict: Verdict) -> None:
    """Called for every verdict a test records (in the process that judged it, so on a
    pytest-xdist worker under xdist), after it is decided and before the assertion
    passes or fails. ``verdict.to_dict()`` gives it as plain JSON values. Example:

        @pytest.hookimpl(optionalhook=True)
        def pytest_llmjudge_verdict(item, verdict):
            scores.append((item.nodeid, verdict.score, verdict.outcome))
    """
