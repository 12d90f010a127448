"""What judging cost this run, and the caps on it (--llmjudge-max-calls, --llmjudge-max-cost).

Totals are counted per process and merged on the pytest-xdist controller. The caps
hold for the whole run: under xdist the spend is counted in a small sqlite file that
every worker updates in one statement each (reserve a call only while calls < cap),
so two workers can never both take the last call.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import JudgeError
from .files import file_lock

SPEND_FILE = "spend.sqlite3"


class BudgetSpentError(JudgeError):
    """The run's judge budget is spent; the judged assertion was not graded."""


@dataclass
class Totals:
    """Judge work done by one process (or, merged, by the whole run)."""

    calls: int = 0  # backend calls made
    replayed: int = 0  # calls answered from the cache
    dry_run: int = 0  # calls a dry run counted instead of making
    prompt_tokens: int = 0  # of calls made (replayed calls cost none)
    completion_tokens: int = 0
    # Of the prompt tokens of calls made, those a local model's KV cache already held.
    reused_prompt_tokens: int = 0
    cost_usd: float = 0.0
    priced_calls: int = 0  # calls made whose price the backend knew
    judge_s: float = 0.0  # time inside backend calls
    budget_stops: int = 0  # judge calls refused because the budget was spent
    notes: list[str] = field(default_factory=list)  # cache and budget warnings

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class SpendCounter(Protocol):
    def reserve_call(self, cap: int | None) -> int | None:
        """Count one call unless ``cap`` calls are already counted; the calls counted
        before this one, or None when the cap is reached."""

    def add_cost(self, usd: float) -> None: ...

    def spent(self) -> tuple[int, float]: ...


class LocalCounter:
    """The spend of a run that is one process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls = 0
        self._cost = 0.0

    def reserve_call(self, cap: int | None) -> int | None:
        with self._lock:
            if cap is not None and self._calls >= cap:
                return None
            self._calls += 1
            return self._calls - 1

    def add_cost(self, usd: float) -> None:
        with self._lock:
            self._cost += usd

    def spent(self) -> tuple[int, float]:
        with self._lock:
            return self._calls, self._cost


class SharedCounter:
    """The spend of a run split over pytest-xdist workers, in one sqlite row per run."""

    def __init__(self, directory: Path, run: str) -> None:
        import sqlite3

        directory.mkdir(parents=True, exist_ok=True)
        self._run = run
        self._lock = threading.Lock()
        with file_lock(directory / (SPEND_FILE + ".lock")):
            self._db = sqlite3.connect(directory / SPEND_FILE, timeout=60,
                                       isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS spend (run TEXT PRIMARY KEY, "
                             "calls INTEGER NOT NULL, cost REAL NOT NULL, started REAL)")
            # Runs from more than a day ago are finished; their rows only take room.
            self._db.execute("DELETE FROM spend WHERE started < ?", (time.time() - 86400,))
            self._db.execute("INSERT OR IGNORE INTO spend VALUES (?, 0, 0.0, ?)",
                             (run, time.time()))

    def reserve_call(self, cap: int | None) -> int | None:
        with self._lock:
            row = self._db.execute(
                "UPDATE spend SET calls = calls + 1 WHERE run = ? AND (? IS NULL OR calls < ?) "
                "RETURNING calls", (self._run, cap, cap)).fetchone()
        return None if row is None else int(row[0]) - 1

    def add_cost(self, usd: float) -> None:
        with self._lock:
            self._db.execute("UPDATE spend SET cost = cost + ? WHERE run = ?", (usd, self._run))

    def spent(self) -> tuple[int, float]:
        with self._lock:
            row = self._db.execute("SELECT calls, cost FROM spend WHERE run = ?",
                                   (self._run,)).fetchone()
        return (0, 0.0) if row is None else (int(row[0]), float(row[1]))


@dataclass
class Budget:
    max_calls: int | None
    max_cost: float | None
    counter: SpendCounter = field(default_factory=LocalCounter)

    def reserve(self, judge_id: str) -> None:
        """Take one call from the budget, or raise BudgetSpentError."""
        calls, cost = self.counter.spent()
        if self.max_cost is not None and cost >= self.max_cost:
            raise BudgetSpentError(
                f"the judge budget is spent: ${cost:.4f} of --llmjudge-max-cost="
                f"{self.max_cost:g} used by {calls} calls to {judge_id} this run; this judged "
                "assertion was not graded. Raise --llmjudge-max-cost, replay recorded "
                "judgments from the cache, or run fewer judged tests")
        if self.counter.reserve_call(self.max_calls) is None:
            raise BudgetSpentError(
                f"the judge budget is spent: {self.max_calls} of --llmjudge-max-calls="
                f"{self.max_calls} judge calls made this run; this judged assertion needed "
                "another and was not graded. Raise --llmjudge-max-calls, replay recorded "
                "judgments from the cache, or run fewer judged tests")

    def to_dict(self) -> dict[str, Any]:
        calls, cost = self.counter.spent()
        return {"max_calls": self.max_calls, "max_cost_usd": self.max_cost,
                "calls": calls, "cost_usd": cost}
