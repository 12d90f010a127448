"""Each backend call's fate: replayed from the cache, made and recorded, refused, or
(in a dry run) counted instead of made.

Record modes follow vcrpy's, with a test's recorded calls as its cassette:
- ``none``: replay only; a call not recorded is an ERROR naming the nearest recorded key.
- ``once``: a test with no recorded calls records them; a test that has some replays
  them, and a new call from it is an ERROR (re-record it deliberately).
- ``new_episodes`` (default): replay what is recorded, record what is not.
- ``all``: make every call and record it over the old one.
- ``off``: no cache at all.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from ..backends.base import ChoiceField, Completion, CompletionRequest, ReplySpec
from ..config.settings import Settings
from ..errors import JudgeError
from ..masking import mask
from .budget import Budget, BudgetSpentError, Totals

if TYPE_CHECKING:  # sqlite3 loads with the first judge call, not with the plugin
    from .cache import CallKey, Entry, JudgeCache

T = TypeVar("T")
DRY_RUN_TEXT = "dry run: the judge was not called"


class CacheMissError(JudgeError):
    """Record mode forbids making a call that the cache does not hold."""


class CacheWarning(UserWarning):
    """The judge cache could not be used as configured; the run went on without it."""


@dataclass(frozen=True)
class Answer:
    completion: Completion
    replayed: bool = False
    dry_run: bool = False


@dataclass
class Replayer:
    settings: Settings
    # Opens the cache on first use (None: no cache). Called at most once.
    open_cache: Callable[[], JudgeCache | None] = lambda: None
    budget: Budget = field(default_factory=lambda: Budget(None, None))
    test: Callable[[], str] = lambda: ""  # the running test's node id
    totals: Totals = field(default_factory=Totals)
    used: set[str] = field(default_factory=set)  # digests replayed or recorded this run
    # What each call used this run asked, as the drift check re-asks it (digest -> the
    # request's JSON, judging/drift.py): written beside the judgment in an export.
    asked: dict[str, str] = field(default_factory=dict)
    _cache: JudgeCache | None = None
    _opened: bool = False
    _recording: set[str] = field(default_factory=set)  # tests recording in mode once
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _open_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def mode(self) -> str:
        return self.settings.record_mode

    def cache(self) -> JudgeCache | None:
        # Its own lock: opening may warn, and warning takes self._lock.
        with self._open_lock:
            if not self._opened:
                cache = self.open_cache() if self.mode != "off" else None
                with self._lock:
                    self._cache, self._opened = cache, True
        with self._lock:
            return self._cache

    def close(self) -> None:
        with self._lock:
            cache, self._cache = self._cache, None
        if cache is not None:
            cache.close()

    def complete(self, send: Callable[[CompletionRequest], Completion], judge_id: str,
                 prompt: str, request: CompletionRequest, poll: int,
                 pending: list[Entry] | None = None, asked: str | None = None) -> Answer:
        """One call's answer. A call made is recorded at once, or, where ``pending`` is
        given, added to it for ``keep`` to record once the caller accepts the reply: a
        reply that ends in an error is never kept as a judgment."""
        from .cache import Entry, call_key

        key = call_key(judge_id, prompt, request, poll)
        if asked is not None:
            with self._lock:
                self.asked[key.digest] = asked
        cache = self.cache()
        test = self.test()
        if cache is not None and self.mode != "all":
            hit = self._guard(cache, lambda: self._get(cache, key))
            if hit is not None:
                with self._lock:
                    self.totals.replayed += 1
                    self.used.add(key.digest)
                return Answer(hit, replayed=True)
        if not may_record(self.mode, self.mode == "once" and self._cassette_closed(cache, test)):
            raise CacheMissError(self._miss(cache, key, test))
        if self.settings.dry_run:
            with self._lock:
                self.totals.dry_run += 1
            return Answer(placeholder(request.reply), dry_run=True)
        try:
            self.budget.reserve(judge_id)
        except BudgetSpentError:
            with self._lock:
                self.totals.budget_stops += 1
            raise
        started = time.perf_counter()
        completion = masked(send(request))
        self._account(completion, time.perf_counter() - started, judge_id)
        if pending is not None:
            pending.append(Entry(key, test, completion))
        elif cache is not None:
            self._guard(cache, lambda: cache.put(key, test, completion), writing=True)
            with self._lock:
                self.used.add(key.digest)
        return Answer(completion)

    def keep(self, entries: list[Entry]) -> None:
        """Record calls held back by ``complete`` until their reply was accepted."""
        cache = self.cache() if entries else None
        if cache is not None:
            self._guard(cache, lambda: cache.put_many(entries), writing=True)
            with self._lock:
                self.used.update(e.key.digest for e in entries)

    def _get(self, cache: JudgeCache, key: CallKey) -> Completion | None:
        """A recorded reply; one that cannot be read is a miss, with a warning, and the
        call is made again (where the record mode allows) and recorded over it."""
        from .cache import CorruptEntryError

        try:
            return cache.get(key)
        except CorruptEntryError as err:
            self.note(f"the judge cache {cache.where} is damaged: {err}; judging the call "
                      "again and recording over it")
            return None

    def _cassette_closed(self, cache: JudgeCache | None, test: str) -> bool:
        """Record mode once: whether ``test`` had recorded calls before this run (then
        it may only replay). A test that began recording this run goes on recording."""
        with self._lock:
            if test in self._recording:
                return False
        closed = cache is not None and bool(self._guard(cache, lambda: cache.has_test(test)))
        if not closed:
            with self._lock:
                self._recording.add(test)
        return closed

    def _account(self, completion: Completion, seconds: float, judge_id: str) -> None:
        with self._lock:
            totals = self.totals
            totals.calls += 1
            totals.judge_s += seconds
            totals.prompt_tokens += completion.prompt_tokens
            totals.completion_tokens += completion.completion_tokens
            totals.reused_prompt_tokens += completion.reused_prompt_tokens
            if completion.cost_usd is not None:
                totals.priced_calls += 1
                totals.cost_usd += completion.cost_usd
        if completion.cost_usd is not None:
            self.budget.counter.add_cost(completion.cost_usd)
        elif self.budget.max_cost is not None:
            self.note(f"--llmjudge-max-cost is set, but {judge_id} reports no price for its "
                      "calls, so the cost cap cannot hold; cap them with "
                      "--llmjudge-max-calls instead")

    def _guard(self, cache: JudgeCache, operation: Callable[[], T],
               writing: bool = False) -> T | None:
        """A cache that fails mid-run is dropped, with a warning: the run goes on
        uncached rather than crashing. A write that fails (a full disk) only stops the
        writing: what the cache holds still replays."""
        import sqlite3

        try:
            return operation()
        except sqlite3.OperationalError as err:
            if not writing:
                self._drop(cache, err)
                return None
            cache.writable = False
            self.note(f"the judge cache {cache.where} cannot be written ({err}); it still "
                      "replays what it holds, and records nothing more this run. Free disk "
                      "space, or set llmjudge_cache_dir to another directory")
            return None
        except sqlite3.Error as err:
            self._drop(cache, err)
            return None

    def _drop(self, cache: JudgeCache, err: BaseException) -> None:
        with self._lock:
            if self._cache is cache:
                self._cache = None
        self.note(f"the judge cache {cache.where} failed ({err}); judging uncached for "
                  "the rest of this run")

    def note(self, message: str) -> None:
        with self._lock:
            if message in self.totals.notes:
                return
            self.totals.notes.append(message)
        warnings.warn(CacheWarning(f"llmjudge: {message}"), stacklevel=2)

    def _miss(self, cache: JudgeCache | None, key: CallKey, test: str) -> str:
        how = ("record it with --llmjudge-record-mode=new_episodes (or all), then export "
               "it with --llmjudge-cache-export=PATH to commit it")
        head = (f"record mode {self.mode}: no recorded judgment for this judge call of "
                f"{test or 'this test'} (key {key.digest[:12]})")
        if self.mode == "once":
            head = (f"record mode once: {test} already has recorded judgments, and this "
                    f"judge call (key {key.digest[:12]}) is not one of them")
            how = ("re-record the test with --llmjudge-record-mode=all, or use "
                   "new_episodes to add new calls")
        if cache is None:
            return f"{head}; the judge cache is not available this run (see the warning); {how}"
        nearest = self._guard(cache, lambda: cache.nearest(key, test))
        if nearest is None:
            return (f"{head}; the cache holds no judgment recorded by this test or for this "
                    f"judged text ({self._guard(cache, cache.count)} in all). To {how}")
        entry, differences = nearest
        what = "; ".join(differences) or "nothing (recorded under another key version)"
        return (f"{head}. Nearest recorded key {entry.key.digest[:12]} (recorded by "
                f"{entry.test}) differs in {what}. To {how}")


def masked(completion: Completion) -> Completion:
    """A reply with every secret in its text masked, whatever the backend: the verdict
    reads what the cache stores, so a replay decides as the live call did. A secret the
    judge echoed into its reason shows as the mask there; one spanning the reply's JSON
    structure would leave a reply that no longer parses, an ERROR rather than a leak."""
    text = mask(completion.text)
    return completion if text == completion.text else dataclasses.replace(completion, text=text)


def may_record(mode: str, recorded_before: bool) -> bool:
    """Whether a call (or a judge-written file) the store does not hold may be made and
    kept: never in mode none; in mode once, only where nothing was recorded before."""
    return not (mode == "none" or (mode == "once" and recorded_before))


@dataclass(frozen=True)
class WrittenFileRule:
    """How the record mode treats a file the judge writes once for review (a generated
    checklist), the way it treats a recorded call."""

    reuse: bool  # read the stored file and use it when it answers the same question
    keep: bool  # write what the judge writes to the file


def written_file_rule(mode: str, update: bool) -> WrittenFileRule:
    """``update`` is the file's own update flag (--llmjudge-update-checklists for a
    checklist): it rewrites whatever the mode. Mode all rewrites too; mode off neither
    reads nor keeps unless updating."""
    return WrittenFileRule(reuse=mode != "off" and not update and mode != "all",
                           keep=mode != "off" or update)


def placeholder(spec: ReplySpec) -> Completion:
    """A reply of the right shape for a dry run: every choice its first answer, every
    text the same note. Never scored: the assertion sees it is a dry run."""
    data: dict[str, object] = {}
    probs: dict[str, dict[str, float]] = {}
    for reply_field in spec.fields:
        if isinstance(reply_field, ChoiceField):
            first = reply_field.choices[0]
            data[reply_field.name] = first
            probs[reply_field.name] = {c: float(c == first) for c in reply_field.choices}
        elif reply_field.schema.get("type") == "array":
            data[reply_field.name] = [DRY_RUN_TEXT]
        else:
            data[reply_field.name] = DRY_RUN_TEXT
    return Completion(text=json.dumps(data), choice_probs=probs)
