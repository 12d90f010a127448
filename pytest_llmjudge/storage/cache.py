"""The judge cache: every backend call, content-addressed, in one sqlite file.

A call's key is the hash of everything that can change its reply: the judge (backend,
model name and model-file hash, or the remote model name), the prompt-template
version, the full request (messages, reply schema), the sampling parameters, the poll
index and the seed. A new model or template therefore never replays an old grade: it
is simply a different key.

The store is sqlite in WAL mode: readers never block the one writer, and several
pytest-xdist workers may write at once (sqlite serialises them; the busy timeout
makes a writer wait its turn instead of failing). A file the integrity check finds
corrupt (or of another schema) is moved aside and replaced by an empty one. A file
that cannot be written (a full disk, a read-only file) is not corrupt: a sound one is
read and replayed, and nothing is recorded; a directory that cannot be written leaves
the run uncached. None of these stops the run: the caller turns the notes into warnings.

Nothing here sees an API key: requests hold messages and sampling parameters only.
A reply is masked before it is stored (``completion_to_json``); the replayer masks it
as it arrives too, so a verdict made live and its replay read the same text.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..backends.base import Completion, CompletionRequest
from ..judging.verdict import excerpt
from ..masking import mask, secret_values
from .files import file_lock

CACHE_FILE = "judgments.sqlite3"
SCHEMA_VERSION = "1"
BUSY_TIMEOUT_S = 60.0  # how long a writer waits for another process's write to end
SHOWN_CHARS = 120  # excerpt of each judged text kept to explain a miss
_SCHEMA = """
CREATE TABLE IF NOT EXISTS judgments (
    key TEXT PRIMARY KEY,
    judge TEXT NOT NULL,
    prompt TEXT NOT NULL,
    texts TEXT NOT NULL,
    request TEXT NOT NULL,
    sampling TEXT NOT NULL,
    poll INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    judged TEXT NOT NULL,
    test TEXT NOT NULL,
    reply TEXT NOT NULL,
    recorded_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS judgments_test ON judgments (test);
CREATE INDEX IF NOT EXISTS judgments_texts ON judgments (texts);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_COLUMNS = "key, judge, prompt, texts, request, sampling, poll, seed, judged, test, reply"


def _sha(value: object) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class CallKey:
    """What identifies one backend call. ``judged`` (excerpts of the texts under test)
    is carried to explain a miss; it is not part of the key."""

    judge: str
    prompt: str
    texts: str  # hash of the texts under test
    request: str  # hash of the whole request: messages, reply schema, texts
    sampling: str  # canonical JSON of the sampling parameters
    poll: int
    seed: int
    judged: tuple[str, ...] = field(default=(), compare=False)
    # The judged texts as shown, for ``excerpts`` to cut and mask when a key is stored
    # or a miss explained: a key that replays needs neither.
    shown: tuple[str, ...] = field(default=(), compare=False, repr=False)

    @functools.cached_property
    def excerpts(self) -> tuple[str, ...]:
        """Masked excerpts of the judged texts (``judged``, or made from ``shown``)."""
        return self.judged or tuple(excerpt(mask(_plain(t)), SHOWN_CHARS) for t in self.shown)

    @functools.cached_property  # a key is hashed once (an import checks 100,000 of them)
    def digest(self) -> str:
        return _sha([self.judge, self.prompt, self.texts, self.request, self.sampling,
                     self.poll, self.seed])

    def differences(self, wanted: CallKey) -> list[str]:
        """How this (recorded) key differs from ``wanted``, part by part, in words."""
        found = []
        if self.judge != wanted.judge:
            found.append(f"the judge model (recorded {self.judge}, now {wanted.judge})")
        if self.prompt != wanted.prompt:
            found.append(f"the prompt template (recorded {self.prompt}, now {wanted.prompt})")
        if self.texts != wanted.texts:
            found.append(f"the judged text (recorded {list(self.excerpts)}, "
                         f"now {list(wanted.excerpts)})")
        elif self.request != wanted.request and self.prompt == wanted.prompt:
            found.append("the criterion or instructions (same template and judged text)")
        if self.sampling != wanted.sampling:
            found.append(f"the sampling parameters (recorded {self.sampling}, "
                         f"now {wanted.sampling})")
        if (self.poll, self.seed) != (wanted.poll, wanted.seed):
            found.append(f"the poll (recorded poll {self.poll} with seed {self.seed}, now "
                         f"poll {wanted.poll} with seed {wanted.seed})")
        return found


def call_key(judge: str, prompt: str, request: CompletionRequest, poll: int) -> CallKey:
    """The key of one backend call. The timeout is left out: it bounds the wait, it
    does not change the reply."""
    texts = list(request.untrusted)
    parameters: dict[str, object] = {
        "temperature": request.temperature,
        "choice_temperature": request.choice_temperature,
        "logprobs": request.logprobs,
        "max_tokens": request.max_tokens,
    }
    if request.hidden_state:
        # Only then: every key recorded before heads existed stays the same.
        parameters["hidden_state"] = True
    sampling = json.dumps(parameters, sort_keys=True)
    whole = {"messages": [[m.role, m.content] for m in request.messages],
             "reply": request.reply.json_schema(), "texts": texts}
    return CallKey(judge, prompt, _sha(texts), _sha(whole), sampling, poll, request.seed,
                   shown=tuple(texts))


def _plain(shown: str) -> str:
    """A judged text as written: prompts show each as a JSON string literal."""
    try:
        value = json.loads(shown)
    except ValueError:
        return shown
    return value if isinstance(value, str) else shown


def completion_to_json(completion: Completion,
                       secrets: list[str] | None = None) -> dict[str, object]:
    """A reply as it is stored (the cache, an export): its text masked, whatever the
    backend, so no stored form holds a secret the judge echoed. ``secrets``: read once
    by a caller storing many (an import of 100,000 judgments)."""
    data: dict[str, object] = {
        "text": mask(completion.text, secrets),
        "choice_probs": {k: dict(v) for k, v in completion.choice_probs.items()},
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "cost_usd": completion.cost_usd}
    if completion.hidden_state is not None:
        data["hidden_state"] = base64.b64encode(completion.hidden_state).decode("ascii")
    return data


def completion_from_json(data: dict[str, object]) -> Completion:
    """A stored reply. Raises ValueError for one that is not a sound reply: cut short,
    edited, or with a probability that is not a finite number in [0, 1]."""
    try:
        probs = data.get("choice_probs") or {}
        if not isinstance(probs, dict) or not all(isinstance(v, dict) for v in probs.values()):
            raise ValueError("choice_probs is not an object of objects")
        choice_probs = {str(k): {str(c): _probability(p) for c, p in v.items()}
                        for k, v in probs.items()}
        for name, field in choice_probs.items():
            total = sum(field.values())
            if not abs(total - 1.0) <= 1e-6:  # a backend renormalises over the choices
                raise ValueError(f"the probabilities of {name!r} add up to {total!r}, not 1")
        cost = data.get("cost_usd")
        hidden = data.get("hidden_state")
        return Completion(
            text=_text(data["text"]),
            choice_probs=choice_probs,
            prompt_tokens=int(data.get("prompt_tokens") or 0),  # type: ignore[call-overload]
            completion_tokens=int(data.get("completion_tokens") or 0),  # type: ignore[call-overload]
            cost_usd=None if cost is None else float(cost),  # type: ignore[arg-type]
            hidden_state=None if hidden is None else _hidden_state(hidden),
        )
    except (KeyError, TypeError, AttributeError) as err:
        raise ValueError(f"not a stored reply ({type(err).__name__}: {err})") from None


def _hidden_state(value: object) -> bytes:
    """A recorded hidden state: base64 of float16 values, every one finite."""
    import binascii

    import numpy as np

    if not isinstance(value, str):
        raise ValueError(f"the hidden state is {type(value).__name__}, not a base64 string")
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError("the hidden state is not base64") from None
    if not raw or len(raw) % 2:
        raise ValueError(f"the hidden state holds {len(raw)} bytes, not float16 values")
    if not np.isfinite(np.frombuffer(raw, dtype="<f2")).all():
        raise ValueError("the hidden state holds a value that is not a finite number")
    return raw


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"the reply text is {type(value).__name__}, not a string")
    return value


def _probability(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"probability {value!r} is not a number")
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        raise ValueError(f"probability {value!r} is not a number in [0, 1]")
    return float(value)


class CorruptEntryError(ValueError):
    """A stored judgment that cannot be read back (cut short or edited)."""


@dataclass(frozen=True)
class Entry:
    """One recorded call: its key, the test that recorded it, and the reply."""

    key: CallKey
    test: str
    completion: Completion
    # The judge request as the drift check re-asks it (JSON), where known: exports
    # carry it; the cache does not need it to replay.
    asked: str | None = field(default=None, compare=False)


class JudgeCache:
    """One connection to the store, shared by the threads of one process."""

    def __init__(self, connection: sqlite3.Connection, where: str,
                 writable: bool = True) -> None:
        self._db = connection
        self.where = where
        # False once writes fail (a full disk, a read-only file): it still replays.
        self.writable = writable
        self._lock = threading.Lock()

    @classmethod
    def in_memory(cls) -> JudgeCache:
        connection = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        connection.executescript(_SCHEMA)
        return cls(connection, "memory")

    def get(self, key: CallKey) -> Completion | None:
        with self._lock:
            row = self._db.execute("SELECT reply FROM judgments WHERE key = ?",
                                   (key.digest,)).fetchone()
        if row is None:
            return None
        try:
            return completion_from_json(json.loads(row[0]))
        except ValueError as err:  # JSONDecodeError too
            raise CorruptEntryError(f"the stored reply for key {key.digest[:12]} cannot be "
                                    f"read ({err})") from None

    def put(self, key: CallKey, test: str, completion: Completion) -> None:
        self.put_many([Entry(key, test, completion)])

    def put_many(self, entries: Iterable[Entry], replies: dict[str, str] | None = None) -> int:
        """Store ``entries``; ``replies``: their stored reply texts by digest, where the
        caller made them already (an import compares them first)."""
        if not self.writable:
            return 0
        secrets = secret_values()
        now = time.time()
        rows = [(e.key.digest, e.key.judge, e.key.prompt, e.key.texts, e.key.request,
                 e.key.sampling, e.key.poll, e.key.seed, json.dumps(list(e.key.excerpts)),
                 e.test, replies[e.key.digest] if replies is not None else
                 json.dumps(completion_to_json(e.completion, secrets), sort_keys=True),
                 now) for e in entries]
        # One transaction: another process sees all of the rows or none of them.
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany(
                f"INSERT OR REPLACE INTO judgments ({_COLUMNS}, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def import_entries(self, entries: list[Entry]) -> int:
        """Store imported judgments over the cache's; returns how many replaced a
        different reply the cache held for the same call (a re-recording, or an edit)."""
        secrets = secret_values()
        replies = {e.key.digest: json.dumps(completion_to_json(e.completion, secrets),
                                            sort_keys=True) for e in entries}
        digests = list(replies)
        changed = 0
        with self._lock:
            for start in range(0, len(digests), 500):  # sqlite's bound-parameter limit
                chunk = digests[start:start + 500]
                marks = ",".join("?" * len(chunk))
                for digest, reply in self._db.execute(
                        f"SELECT key, reply FROM judgments WHERE key IN ({marks})", chunk):
                    changed += _reply_differs(reply, replies[digest])
        self.put_many(entries, replies)
        return changed

    def has_test(self, test: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM judgments WHERE test = ? LIMIT 1",
                                    (test,)).fetchone() is not None

    def nearest(self, key: CallKey, test: str) -> tuple[Entry, list[str]] | None:
        """The recorded call most like ``key``: among those of the same test or the same
        judged text, the one differing in the fewest parts (the same test first)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM judgments WHERE test = ? OR texts = ? LIMIT 5000",
                (test, key.texts)).fetchall()
        best: tuple[int, int, Entry, list[str]] | None = None
        for row in rows:
            entry = _entry(row)
            if entry is None:
                continue
            diff = entry.key.differences(key)
            rank = (len(diff), int(entry.test != test))
            if best is None or rank < best[:2]:
                best = (*rank, entry, diff)
        return None if best is None else (best[2], best[3])

    def entries(self, digests: Iterable[str] | None = None) -> Iterator[Entry]:
        """Every entry (or those with these digests), ordered by test and key."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM judgments ORDER BY test, key").fetchall()
        wanted = None if digests is None else set(digests)
        for row in rows:
            if wanted is None or row[0] in wanted:
                entry = _entry(row)
                if entry is not None:  # a damaged row: its test records it again
                    yield entry

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM judgments").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _reply_differs(stored: str, imported: str) -> bool:
    try:
        return bool(json.loads(stored) != json.loads(imported))
    except ValueError:  # a damaged row: the import repairs it
        return True


def _entry(row: tuple[object, ...]) -> Entry | None:
    """A row as an entry; None for a damaged row (``get`` reports those)."""
    (_, judge, prompt, texts, request, sampling, poll, seed, judged, test, reply) = row
    try:
        key = CallKey(str(judge), str(prompt), str(texts), str(request), str(sampling),
                      int(poll), int(seed),  # type: ignore[call-overload]
                      tuple(json.loads(str(judged))))
        return Entry(key, str(test), completion_from_json(json.loads(str(reply))))
    except ValueError:
        return None


@dataclass(frozen=True)
class Opened:
    cache: JudgeCache | None  # None: the run goes uncached
    notes: tuple[str, ...] = ()  # what went wrong and what was done about it


def open_cache(directory: Path) -> Opened:
    """Open (or create) the store under ``directory``. A corrupt file is moved aside and
    replaced; an unwritable directory gives no cache. Never raises for either."""
    path = directory / CACHE_FILE
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with file_lock(directory / (CACHE_FILE + ".lock")):
            return _open_locked(path)
    except OSError as err:
        return Opened(None, (_unwritable(directory, err),))


class SchemaMismatchError(sqlite3.DatabaseError):
    """A sound database of another schema version: moved aside, never read."""


def _open_locked(path: Path) -> Opened:
    # Under the lock: of several workers finding the file corrupt, one moves it aside
    # and the others then open the fresh file it left.
    try:
        return Opened(JudgeCache(_connect(path), str(path)))
    except SchemaMismatchError as err:
        problem: Exception = err
    except sqlite3.DatabaseError as err:  # OperationalError too
        # An I/O error, a full disk or a read-only file is not corruption: only the
        # integrity check may condemn a file. A sound one is read, and not written.
        sound = _sound(path)
        if sound is not False:
            return _read_only(path, err, sound)
        problem = err
    aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}")
    for suffix in ("", "-wal", "-shm"):  # a stale log must not be replayed into the new file
        source = Path(str(path) + suffix)
        if source.exists():
            source.rename(str(aside) + suffix)
    note = (f"the judge cache {path} was not a usable database ({problem}); moved it to "
            f"{aside.name} and started an empty cache")
    try:
        return Opened(JudgeCache(_connect(path), str(path)), (note,))
    except sqlite3.Error as err:
        return Opened(None, (note, _unwritable(path.parent, err)))


def _sound(path: Path) -> bool | sqlite3.Connection | None:
    """What the integrity check says of the file: a read-only connection to it where it
    is sound, False where it is corrupt (or not a database), None where it cannot be
    read at all (then nothing is moved: a file we cannot read is not known to be bad)."""
    if not path.exists():
        return None
    from urllib.parse import quote

    # mode=ro reads a WAL file's log; where even that needs space or rights (its
    # shared-memory file cannot be made), immutable=1 reads the database file alone.
    for flags in ("mode=ro", "mode=ro&immutable=1"):
        try:
            reader = sqlite3.connect(f"file:{quote(str(path))}?{flags}", uri=True,
                                     timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                     check_same_thread=False)
        except sqlite3.Error:
            continue
        try:
            problems = reader.execute("PRAGMA integrity_check").fetchall()
            found = reader.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
            reader.execute("SELECT COUNT(*) FROM judgments").fetchone()
        except sqlite3.OperationalError:
            reader.close()
            continue  # could not read (I/O, locking): try the next way
        except sqlite3.DatabaseError:
            reader.close()
            return False  # "file is not a database", a malformed image
        if problems != [("ok",)] or (found is not None and found[0] != SCHEMA_VERSION):
            reader.close()
            return False
        return reader
    return None


def _read_only(path: Path, err: BaseException,
               sound: bool | sqlite3.Connection | None) -> Opened:
    if sound is None and not path.exists():  # nothing to read: the directory refused it
        return Opened(None, (_unwritable(path.parent, err),))
    if not isinstance(sound, sqlite3.Connection):
        return Opened(None, (f"the judge cache {path} cannot be opened ({err}) and could not "
                             "be checked; it was left as it is, and this run goes uncached. "
                             + _FIX,))
    cache = JudgeCache(sound, str(path), writable=False)
    return Opened(cache, (f"the judge cache {path} cannot be written ({err}); it is sound "
                          f"(integrity check ok), so this run replays the {cache.count()} "
                          "judgment(s) it holds and records none. " + _FIX,))


_FIX = ("Free disk space or make the directory writable, or set llmjudge_cache_dir to "
        "another directory")


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                 check_same_thread=False)
    try:
        connection.execute("PRAGMA journal_mode=WAL").fetchone()
        connection.execute("PRAGMA synchronous=NORMAL")
        problems = connection.execute("PRAGMA quick_check").fetchall()
        if problems != [("ok",)]:
            raise sqlite3.DatabaseError(f"integrity check: {problems[0][0]}")
        connection.executescript(_SCHEMA)
        found = connection.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
        if found is not None and found[0] != SCHEMA_VERSION:
            raise SchemaMismatchError(
                f"cache schema {found[0]}, this plugin uses schema {SCHEMA_VERSION}")
        # A write on open: an unwritable file or directory shows now, not mid-run.
        connection.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)",
                           (SCHEMA_VERSION,))
    except BaseException:
        connection.close()
        raise
    return connection


def _unwritable(directory: Path, err: BaseException) -> str:
    return (f"the judge cache directory {directory} cannot be written ({err}); this run "
            "keeps its judgments in memory only, and saves none. Make it writable, or set "
            "llmjudge_cache_dir to a writable directory")
