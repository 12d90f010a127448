"""Hooks that other plugins and conftest files can implement."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import pytest

    from .backends.base import Backend
    from .config.settings import Settings
    from .judging.verdict import Verdict

hookspec = pluggy.HookspecMarker("pytest")


@hookspec(firstresult=True)
def pytest_llmjudge_make_backend(settings: Settings) -> Backend | None:
    """Create the judge backend for this session; the first non-None result wins.

    Called once, lazily, when the first judged assertion runs. The built-in
    implementation handles ``llmjudge_backend = llamacpp`` and ``litellm``, from
    ``settings.backend_config()``. Example ``conftest.py``:

        def pytest_llmjudge_make_backend(settings):
            if settings.backend == "llamacpp" and settings.model == "my-remote":
                return MyBackend()  # any object with judge_id, model_name, complete, close
    """


@hookspec
def pytest_llmjudge_verdict(item: pytest.Item, verdict: Verdict) -> None:
    """Called for every verdict a test records (in the process that judged it, so on a
    pytest-xdist worker under xdist), after it is decided and before the assertion
    passes or fails. ``verdict.to_dict()`` gives it as plain JSON values. Example:

        def pytest_llmjudge_verdict(item, verdict):
            scores.append((item.nodeid, verdict.score, verdict.outcome))
    """
