"""Shared fixtures, and the test tiers.

Every test belongs to one tier, a registered marker, so each tier runs alone
(``pytest -m unit``). A test's tier is its explicit marker, else what it uses:
``quality_judge`` -> quality, ``judge_server``/``remote`` -> backends, ``judged``
-> mechanics, ``pytester`` -> plumbing, none of these -> unit.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

# Many tests rewrite a test file between two pytester runs, often to the same length
# within the same second; a cached .pyc is checked by whole-second mtime and size, so
# the second run could execute the first file (seen under pytest 8.0). Write none.
sys.dont_write_bytecode = True

if TYPE_CHECKING:
    from servers import FaultProxy, JudgeServer

    from pytest_llmjudge.judging.judge import Judge

pytest_plugins = ["pytester"]

TIERS = {
    "unit": "pure functions, no model and no pytest run",
    "plumbing": "real pytest runs (pytester) around a stub backend plugged in by the hook",
    "mechanics": "the real 135M model",
    "backends": "real OpenAI-compatible HTTP servers on 127.0.0.1",
    "quality": "judging quality, on the 1.5B model",
}
# Tiers whose tests load llama.cpp (in this process, or in an in-process pytester run).
NEEDS_MODELS = ("mechanics", "backends", "quality")
# The fixtures that put a test in a tier, checked in this order.
TIER_FIXTURES = ((("quality_judge",), "quality"), (("judge_server", "remote"), "backends"),
                 (("judged",), "mechanics"), (("pytester",), "plumbing"))

MECHANICS_MODEL = "smollm2-135m"
QUALITY_MODEL = "qwen2.5-coder-1.5b"
# pytest-asyncio (a test dependency) warns in every run that leaves this unset.
ASYNCIO_INI = "asyncio_default_fixture_loop_scope = function\n"


@pytest.fixture
def judged(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester project whose judge is the real 135M model, with no LLMJUDGE_* leaking in."""
    for name in ("BACKEND", "MODEL", "THRESHOLD", "REPORT", "TIMEOUT", "MAX_TOKENS"):
        monkeypatch.delenv(f"LLMJUDGE_{name}", raising=False)
    pytester.makeini(f"[pytest]\nllmjudge_model = {MECHANICS_MODEL}\n{ASYNCIO_INI}")
    return pytester


def pytest_configure(config: pytest.Config) -> None:
    for tier, what in TIERS.items():
        config.addinivalue_line("markers", f"{tier}: test tier: {what}")


def tier(item: pytest.Item) -> str:
    marked = [m.name for m in item.iter_markers() if m.name in TIERS]
    if marked:
        return marked[0]
    used = set(getattr(item, "fixturenames", ()))
    for fixtures, name in TIER_FIXTURES:
        if used.intersection(fixtures):
            return name
    return "unit"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # tryfirst: the tier marker must be on the item before -m deselects.
    for item in items:
        item.add_marker(tier(item))


def pytest_collection_finish(session: pytest.Session) -> None:
    """In-process pytester runs roll sys.modules back after each run, and numpy (under
    llama_cpp) cannot be imported twice in one process; litellm takes seconds to
    import. So a session whose tests use models imports them once, up front; a
    session of unit or plumbing tests never does."""
    if not any(tier(item) in NEEDS_MODELS for item in session.items):
        return
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no price-list download
    for name in ("llama_cpp.llama_chat_format", "llama_cpp.llama_grammar", "litellm"):
        importlib.import_module(name)


@pytest.fixture(scope="session")
def quality_judge() -> Iterator[Judge]:
    """The default 1.5B judge, loaded once for every test of judging quality."""
    from pytest_llmjudge.backends import create_backend
    from pytest_llmjudge.config.settings import Settings
    from pytest_llmjudge.judging.judge import Judge

    settings = Settings(model=QUALITY_MODEL)
    loaded = Judge(create_backend(settings.backend_config()), settings)
    yield loaded
    loaded.backend.close()


@pytest.fixture(scope="session")
def judge_server() -> Iterator[JudgeServer]:
    """llama-cpp-python's OpenAI-compatible server on 127.0.0.1, with the 135M model."""
    from servers import JudgeServer

    server = JudgeServer()
    yield server
    server.stop()


@pytest.fixture
def proxies() -> Iterator[list[FaultProxy]]:
    """Fault proxies a test starts (tests/servers.py), stopped after it."""
    made: list[FaultProxy] = []
    yield made
    for proxy in made:
        proxy.stop()


@pytest.fixture
def remote(judged: pytest.Pytester) -> pytest.Pytester:
    """A pytester project configured for the litellm backend (the server comes per test)."""
    judged.makeini("[pytest]\nllmjudge_backend = litellm\nllmjudge_model = openai/judge\n"
                   + ASYNCIO_INI)
    return judged
