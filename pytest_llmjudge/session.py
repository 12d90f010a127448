"""Per-session judge state: the lazily created judge, and which test is running.

The state object lives in ``config.stash``. The only process-wide value is the
pointer to the running test, which ``assert_judged`` needs because it is a plain
function, not a fixture; pytest runs one test at a time per process (xdist workers
are separate processes), so that pointer is never shared between tests.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from .errors import JudgeError, NoActiveSessionError
from .settings import Settings
from .verdict import JudgeRequest, Verdict

if TYPE_CHECKING:
    from .backends.base import Backend
    from .judge import Judge

VERDICT_PROPERTY = "llmjudge_verdict"


@dataclass
class JudgeSession:
    settings: Settings
    make_backend: Callable[[Settings], Backend]
    _judge: Judge | None = None
    _failure: JudgeError | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Generated checklist files used this session -> their instruction, so two
    # checklists of one test never overwrite each other's file.
    checklist_files: dict[str, str] = field(default_factory=dict)

    @property
    def judge(self) -> Judge:
        """The judge, created on first use. A backend that failed to load fails every
        later assertion with the same error instead of retrying a slow load each time."""
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._judge is None:
                from .judge import Judge

                try:
                    self._judge = Judge(self.make_backend(self.settings), self.settings)
                except JudgeError as err:
                    self._failure = err
                    raise
            return self._judge

    def evaluate(self, item: pytest.Item | None, request: JudgeRequest) -> Verdict:
        verdict = self.judge.evaluate(request)
        _record(item, [verdict])
        return verdict

    def evaluate_many(self, item: pytest.Item | None,
                      requests: list[JudgeRequest]) -> list[Verdict]:
        from .judge import evaluate_many

        verdicts = evaluate_many(self.judge, requests)
        _record(item, verdicts)
        return verdicts

    def judge_all(self, requests: list[JudgeRequest]) -> list[Verdict]:
        """Judge the parts of one combined verdict (checklist items, claims), concurrently
        where the backend allows; records nothing (the caller records the whole)."""
        from .judge import evaluate_many

        return evaluate_many(self.judge, requests)

    def record(self, item: pytest.Item | None, verdict: Verdict) -> None:
        _record(item, [verdict])

    def close(self) -> None:
        if self._judge is not None:
            self._judge.backend.close()
            self._judge = None


def _record(item: pytest.Item | None, verdicts: list[Verdict]) -> None:
    """Verdicts ride on the test's user_properties: to the report, JUnit, xdist's controller."""
    if item is not None:
        for verdict in verdicts:
            item.user_properties.append((VERDICT_PROPERTY, json.dumps(verdict.to_dict())))


session_key = pytest.StashKey[JudgeSession]()

_running: tuple[JudgeSession, pytest.Item] | None = None


def set_running(
    value: tuple[JudgeSession, pytest.Item] | None,
) -> tuple[JudgeSession, pytest.Item] | None:
    """Point at the running test; returns the previous pointer so a nested pytest run
    (pytester, in-process) can restore its caller's."""
    global _running
    previous, _running = _running, value
    return previous


def running() -> tuple[JudgeSession, pytest.Item]:
    if _running is None:
        raise NoActiveSessionError(
            "judged assertions need a running pytest test with the llmjudge plugin; it is "
            "not active here (disabled with -p no:llmjudge, or called outside a test?)"
        )
    return _running
