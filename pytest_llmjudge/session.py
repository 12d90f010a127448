"""Per-session judge state: the lazily created judge, and which test is running.

The state object lives in ``config.stash``. The only process-wide value is the
pointer to the running test, which ``assert_judged`` needs because it is a plain
function, not a fixture; pytest runs one test at a time per process (xdist workers
are separate processes), so that pointer is never shared between tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .config.settings import Settings
from .errors import JudgeError, NoActiveSessionError
from .judging.verdict import JudgeRequest, Verdict
from .reporting.run_record import record_verdicts
from .storage.budget import Budget, LocalCounter, SpendCounter
from .storage.record_modes import Replayer

if TYPE_CHECKING:
    from .backends.base import Backend
    from .calibration.thresholds_file import Calibration
    from .judging.judge import Judge
    from .storage.cache import Entry, JudgeCache


@dataclass
class JudgeSession:
    settings: Settings
    make_backend: Callable[[Settings], Backend]
    cache_dir: Path | None = None  # where the judge cache lives; None: memory only
    run_id: str = ""  # names the run's shared spend under pytest-xdist ("" in one process)
    calibration_path: Path | None = None  # fitted thresholds, applied when the file exists
    # Judgments read (and checked) from --llmjudge-cache-import at session start; None
    # where this process did not read them (an xdist worker reads them on first use).
    imported: list[Entry] | None = None
    replayer: Replayer = field(init=False)
    _judge: Judge | None = None
    _failure: JudgeError | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # Generated checklist files used this session -> their instruction, so two
    # checklists of one test never overwrite each other's file.
    checklist_files: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        budget = Budget(self.settings.max_calls, self.settings.max_cost, LocalCounter())
        self.replayer = Replayer(self.settings, self._open_cache, budget, _running_test)
        if self.run_id and (budget.max_calls is not None or budget.max_cost is not None):
            budget.counter = self._shared_counter()

    def _calibration(self) -> Calibration | None:
        from .calibration.thresholds_file import Calibration, packaged_heads, read_all

        path = self.calibration_path
        use = self.settings.heads
        entries, heads = (read_all(path, with_heads=use != "off")
                          if path is not None and path.exists() else ([], []))
        if use == "packaged":
            heads += packaged_heads()
        if not entries and not heads:
            return None
        return Calibration(str(path) if path else "", tuple(entries), tuple(heads))

    def _open_cache(self) -> JudgeCache:
        """The cache, opened on the first judge call. Where no file can be used, the run
        keeps its judgments in memory: recorded ones imported still replay."""
        from .storage.cache import JudgeCache, open_cache

        opened = open_cache(self.cache_dir) if self.cache_dir is not None else None
        for note in opened.notes if opened else ():
            self.replayer.note(note)
        cache = opened.cache if opened and opened.cache else JudgeCache.in_memory()
        if self.settings.cache_import:
            from .storage.judgments_file import load

            path = Path(self.settings.cache_import)
            entries = self.imported if self.imported is not None else load(path)
            changed = cache.import_entries(entries)
            if changed:
                self.replayer.note(
                    f"--llmjudge-cache-import {path}: {changed} of {len(entries)} judgment(s) "
                    "hold a different reply than the cache held for the same judge call (an "
                    "edit, or a re-recording); the file's replies replace the cache's")
        return cache

    def _shared_counter(self) -> SpendCounter:
        import sqlite3

        from .storage.budget import SharedCounter

        if self.cache_dir is not None:
            try:
                return SharedCounter(self.cache_dir, self.run_id)
            except (OSError, sqlite3.Error) as err:
                problem = f"{self.cache_dir} cannot be written ({err})"
        else:
            problem = "no cache directory is set"
        self.replayer.note(f"the judge budget is counted per pytest-xdist worker: {problem}")
        return LocalCounter()

    def totals(self) -> dict[str, Any]:
        """This process's judge work and the run's spend, for reports and xdist."""
        return {"totals": self.replayer.totals.to_dict(),
                "budget": self.replayer.budget.to_dict(),
                "used": sorted(self.replayer.used),
                "asked": dict(self.replayer.asked)}

    @property
    def judge(self) -> Judge:
        """The judge, created on first use. A backend that failed to load fails every
        later assertion with the same error instead of retrying a slow load each time."""
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._judge is None:
                from .judging.judge import Judge

                try:
                    self._judge = (self._panel() if self.settings.panel else
                                   Judge(self.make_backend(self.settings), self.settings,
                                         self.replayer, self._calibration()))
                except JudgeError as err:
                    self._failure = err
                    raise
            return self._judge

    def _panel(self) -> Judge:
        """The panel's judges: one backend per model (a role on the same model shares
        it), each member an ordinary Judge on the session's cache and budget."""
        import dataclasses

        from .judging.judge import Judge
        from .judging.panel import PanelJudge
        from .judging.roles import parse_panel

        calibration = self._calibration()
        backends: dict[str, Any] = {}
        members = []
        for member in parse_panel(self.settings.panel):
            model = member.model or self.settings.model
            if model not in backends:
                try:
                    backends[model] = self.make_backend(
                        dataclasses.replace(self.settings, model=model))
                except JudgeError as err:
                    raise type(err)(f"panel member {member.name}: {err}") from None
            members.append((member, Judge(backends[model], self.settings, self.replayer,
                                          calibration, member.role)))
        quorum = self.settings.panel_quorum or len(members)
        return PanelJudge(members, self.settings.panel_aggregate, quorum)

    def evaluate(self, item: pytest.Item | None, request: JudgeRequest) -> Verdict:
        verdict = self.judge.evaluate(request)
        record_verdicts(item, [verdict])
        return verdict

    def evaluate_many(self, item: pytest.Item | None,
                      requests: list[JudgeRequest]) -> list[Verdict]:
        from .judging.judge import evaluate_many

        verdicts = evaluate_many(self.judge, requests)
        record_verdicts(item, verdicts)
        return verdicts

    def judge_all(self, requests: list[JudgeRequest]) -> list[Verdict]:
        """Judge the parts of one combined verdict (checklist items, claims), concurrently
        where the backend allows; records nothing (the caller records the whole)."""
        from .judging.judge import evaluate_many

        return evaluate_many(self.judge, requests)

    def record(self, item: pytest.Item | None, verdict: Verdict) -> None:
        record_verdicts(item, [verdict])

    def close(self) -> None:
        if self._judge is not None:
            # A panel's members may each hold a model; close every one once.
            backends = {id(j.backend): j.backend for _, j in
                        getattr(self._judge, "members", ())}
            backends[id(self._judge.backend)] = self._judge.backend
            for backend in backends.values():
                backend.close()
            self._judge = None
        self.replayer.close()


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


def _running_test() -> str:
    return _running[1].nodeid if _running is not None else ""


def running() -> tuple[JudgeSession, pytest.Item]:
    if _running is None:
        raise NoActiveSessionError(
            "judged assertions need a running pytest test with the llmjudge plugin; it is "
            "not active here (disabled with -p no:llmjudge, or called outside a test?)"
        )
    return _running
