"""The registry's SQLite database (WAL): schema migrations, retried write transactions, and the queries.

One write transaction holds every change that belongs together (a version row, its file index and the task's
final status), so a crash leaves either the old state or the new one. Writers take the lock up front
(`BEGIN IMMEDIATE`) and retry while another process holds it, so concurrency never reaches the user.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from dlhub_manifest.errors import RegistryUnavailable, StorageError
from dlhub_manifest.registry import catalog
from dlhub_manifest.registry.sqlscript import run_script

T = TypeVar("T")
DB_NAME = "registry.sqlite3"
BUSY_TIMEOUT_MS = 30_000
RETRY_SECONDS = 120.0  # how long a writer waits for a locked database; DLHUB_MANIFEST_LOCK_WAIT overrides it
LOCK_WAIT_ENV = "DLHUB_MANIFEST_LOCK_WAIT"

_V1 = """
CREATE TABLE servables (
  id INTEGER PRIMARY KEY,
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  uuid TEXT NOT NULL UNIQUE,
  created_at REAL NOT NULL,
  UNIQUE (owner, name)
);
CREATE TABLE versions (
  id INTEGER PRIMARY KEY,
  servable_id INTEGER NOT NULL REFERENCES servables(id),
  version TEXT NOT NULL,
  document TEXT NOT NULL,
  content_digest TEXT NOT NULL,
  provenance TEXT NOT NULL,
  search_text TEXT NOT NULL,
  created_at REAL NOT NULL,
  task_id TEXT NOT NULL,
  UNIQUE (servable_id, version)
);
CREATE TABLE version_files (
  version_id INTEGER NOT NULL REFERENCES versions(id),
  path TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  mode INTEGER NOT NULL,
  PRIMARY KEY (version_id, path)
) WITHOUT ROWID;
CREATE INDEX version_files_sha256 ON version_files (sha256);
CREATE TABLE tasks (
  id TEXT PRIMARY KEY,
  identity TEXT NOT NULL,
  owner TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('files', 'repository')),
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  request TEXT NOT NULL,
  messages TEXT NOT NULL DEFAULT '[]',
  result TEXT,
  servable TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT,
  lease_expires REAL,
  idempotency_key TEXT,
  created_at REAL NOT NULL,
  updated_at REAL NOT NULL
);
CREATE INDEX tasks_status ON tasks (status, created_at);
CREATE UNIQUE INDEX tasks_idempotency ON tasks (identity, idempotency_key) WHERE idempotency_key IS NOT NULL;
"""


def _v1(conn: sqlite3.Connection) -> None:
    run_script(conn, _V1)


# Append-only: migration N brings a database from user_version N-1 to N (inside one transaction).
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, catalog.migrate)


class Store:
    """One registry database; open a `Store` per thread (sqlite3 connections are not shared across threads)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / DB_NAME
        self._conn: sqlite3.Connection | None = None

    def exists(self) -> bool:
        """Whether the database has been created (read-only callers treat a missing one as empty)."""
        return self.path.is_file()

    @property
    def conn(self) -> sqlite3.Connection:
        """The open connection, created and migrated on first use."""
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def close(self) -> None:
        """Close the connection (a later use reopens it)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _open(self) -> sqlite3.Connection:
        self.root.mkdir(parents=True, exist_ok=True)
        busy_ms = min(BUSY_TIMEOUT_MS, int(lock_wait() * 1000))
        conn = sqlite3.connect(self.path, timeout=busy_ms / 1000, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
        conn.execute("PRAGMA foreign_keys = ON")
        _retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        conn.execute("PRAGMA synchronous = FULL")  # a reported success survives a power cut
        _retry(lambda: _migrate(conn, self.path))
        return conn

    def write(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn` in one write transaction, retried as a whole while the database is locked."""
        return _retry(lambda: _transaction(self.conn, fn))

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every query inside sees the same committed state."""
        conn = self.conn
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")


def _transaction(conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def lock_wait() -> float:
    """Seconds a writer waits for a database another process keeps locked: DLHUB_MANIFEST_LOCK_WAIT, else
    RETRY_SECONDS (a registry server's operator may want its clients told sooner)."""
    text = os.environ.get(LOCK_WAIT_ENV, "")
    try:
        return max(0.0, float(text)) if text.strip() else RETRY_SECONDS
    except ValueError:
        return RETRY_SECONDS


def _retry(fn: Callable[[], T]) -> T:
    """Call `fn`, retrying with jittered back-off while SQLite reports the database locked or busy.

    Still locked after `lock_wait()` seconds: RegistryUnavailable (try again later); any other database
    failure is the registry's own fault: StorageError. Neither is the caller's mistake.
    """
    wait = lock_wait()
    deadline = time.monotonic() + wait
    delay = 0.01
    while True:
        try:
            return fn()
        except sqlite3.IntegrityError:
            raise  # a constraint the code itself broke: a bug, not the storage
        except sqlite3.DatabaseError as e:  # OperationalError (locked, I/O, read-only) or a damaged file
            text = str(e).lower()
            if not isinstance(e, sqlite3.OperationalError) or ("locked" not in text and "busy" not in text):
                raise StorageError(f"registry database error: {e}; check the disk and the registry folder's "
                                   "permissions, then run `dlhub-manifest registry check`") from e
            if time.monotonic() > deadline:
                raise RegistryUnavailable(f"the registry database stayed locked by another process for {wait:g} s; "
                                          "try again later (if a dlhub-manifest process is stuck, stop it)") from e
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)


def schema_version(path: Path) -> int:
    """The schema version of the database file at `path` (0 when there is none yet)."""
    if not path.is_file():
        return 0
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    def step(c: sqlite3.Connection) -> None:
        current = c.execute("PRAGMA user_version").fetchone()[0]
        if current > len(MIGRATIONS):
            raise StorageError(f"{path} was written by a newer dlhub-manifest (schema {current}, this one knows "
                                f"{len(MIGRATIONS)}); upgrade dlhub-manifest")
        for migration in MIGRATIONS[current:]:
            migration(c)
        c.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    if conn.execute("PRAGMA user_version").fetchone()[0] != len(MIGRATIONS):
        _transaction(conn, step)


# --- queries -----------------------------------------------------------------------------------------------


def servable_row(conn: sqlite3.Connection, owner: str, name: str) -> sqlite3.Row | None:
    """The servable `owner/name`, or None."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM servables WHERE owner = ? AND name = ?", (owner, name)).fetchone()
    return row


def ensure_servable(conn: sqlite3.Connection, owner: str, name: str, uuid: str, now: float) -> sqlite3.Row:
    """The servable `owner/name`, created (with `uuid`) when it does not exist yet."""
    conn.execute("INSERT OR IGNORE INTO servables (owner, name, uuid, created_at) VALUES (?, ?, ?, ?)",
                 (owner, name, uuid, now))
    row = servable_row(conn, owner, name)
    assert row is not None  # inserted just above, inside the caller's transaction
    return row


def version_rows(conn: sqlite3.Connection, servable_id: int) -> list[sqlite3.Row]:
    """Every version of a servable (unordered: callers sort by semver precedence)."""
    return conn.execute("SELECT * FROM versions WHERE servable_id = ?", (servable_id,)).fetchall()


def version_row(conn: sqlite3.Connection, servable_id: int, version: str) -> sqlite3.Row | None:
    """One version of a servable, or None."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM versions WHERE servable_id = ? AND version = ?", (servable_id, version)).fetchone()
    return row


def insert_version(conn: sqlite3.Connection, row: dict[str, Any], files: Iterable[Mapping[str, Any]]) -> int:
    """Insert a version, its file index and the servable's new catalog rows; the caller's transaction makes
    them appear at once."""
    cur = conn.execute(
        "INSERT INTO versions (servable_id, version, document, content_digest, provenance, search_text, "
        "created_at, task_id) VALUES (:servable_id, :version, :document, :content_digest, :provenance, "
        ":search_text, :created_at, :task_id)", row)
    version_id = int(cur.lastrowid or 0)
    conn.executemany("INSERT INTO version_files (version_id, path, sha256, size, mode) VALUES (?, ?, ?, ?, ?)",
                     [(version_id, f["path"], f["sha256"], f["size"], f["mode"]) for f in files])
    catalog.refresh(conn, row["servable_id"])
    return version_id


def file_rows(conn: sqlite3.Connection, version_id: int) -> list[sqlite3.Row]:
    """The file index of one version, by path."""
    return conn.execute("SELECT path, sha256, size, mode FROM version_files WHERE version_id = ? ORDER BY path",
                        (version_id,)).fetchall()


def blob_holders(conn: sqlite3.Connection, sha256: str) -> list[sqlite3.Row]:
    """(owner, document) of every version whose files include blob `sha256`."""
    return conn.execute("SELECT s.owner, v.document FROM version_files f JOIN versions v ON v.id = f.version_id "
                        "JOIN servables s ON s.id = v.servable_id WHERE f.sha256 = ?", (sha256,)).fetchall()


def referenced_blobs(conn: sqlite3.Connection) -> dict[str, int]:
    """sha256 → size of every blob some version references."""
    return {r[0]: r[1] for r in conn.execute("SELECT DISTINCT sha256, size FROM version_files")}


def loads(text: str | None) -> Any:
    """JSON column → value (None stays None)."""
    return None if text is None else json.loads(text)


def dumps(value: Any) -> str:
    """Value → canonical JSON column text (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
