"""The `Records` interface over the registry folder's SQLite database (the embedded default).

A thin adapter: the SQL stays in `store`, `catalog`, `browse` and `tasks`, tuned for SQLite.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from dlhub_manifest.registry import browse, quota
from dlhub_manifest.registry import store as q
from dlhub_manifest.registry.contracts import TaskStatus
from dlhub_manifest.registry.records import Tx, TxBase
from dlhub_manifest.registry.store import Store
from dlhub_manifest.registry.tasks import TaskQueue

T = TypeVar("T")


class SqliteTx(TxBase):
    """Record operations on one SQLite connection, inside the caller's transaction."""

    catalog = browse

    def __init__(self, conn: sqlite3.Connection, queue: TaskQueue) -> None:
        super().__init__(conn, queue)
        self.conn: sqlite3.Connection = conn

    def servable_row(self, owner: str, name: str) -> sqlite3.Row | None:
        return q.servable_row(self.conn, owner, name)

    def ensure_servable(self, owner: str, name: str, uuid: str, now: float) -> sqlite3.Row:
        return q.ensure_servable(self.conn, owner, name, uuid, now)

    def version_rows(self, servable_id: int) -> list[sqlite3.Row]:
        return q.version_rows(self.conn, servable_id)

    def file_rows(self, version_id: int) -> list[sqlite3.Row]:
        return q.file_rows(self.conn, version_id)

    def blob_holders(self, sha256: str) -> list[sqlite3.Row]:
        return q.blob_holders(self.conn, sha256)

    def insert_version(self, row: dict[str, Any], files: Iterable[Mapping[str, Any]]) -> int:
        return q.insert_version(self.conn, row, files)

    def owner_usage(self, owner: str) -> dict[str, int]:
        return quota.owner_usage(self.conn, owner)

    def all_versions(self) -> Iterable[sqlite3.Row]:
        return self.conn.execute("SELECT v.*, s.owner, s.name FROM versions v JOIN servables s "
                                 "ON s.id = v.servable_id")

    def integrity_problems(self) -> list[str]:
        result = self.conn.execute("PRAGMA integrity_check").fetchone()[0]
        problems = [] if result == "ok" else [f"database integrity check failed: {result}"]
        return problems + [f"database: {r[0]} row {r[1]} refers to a missing {r[2]} row"
                           for r in self.conn.execute("PRAGMA foreign_key_check")]

    def lost_versions(self) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT t.id FROM tasks t WHERE t.status = ? AND json_extract(t.result, '$.already_published') = 0 "
            "AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.task_id = t.id)", (TaskStatus.SUCCEEDED.value,))]

    def running_tasks(self) -> int:
        row = self.conn.execute("SELECT COUNT(*) FROM tasks WHERE status = ?", (TaskStatus.RUNNING.value,)).fetchone()
        return int(row[0])


class SqliteRecords:
    """The registry folder's SQLite file; one writer at a time, so one worker per folder."""

    shared = False

    def __init__(self, root: Path, store: Store | None = None) -> None:
        self.store = store or Store(root)

    def exists(self) -> bool:
        return self.store.exists()

    def verify(self) -> None:
        """Nothing to check ahead: the folder's database is created and migrated when first used."""

    def queue(self, lease_seconds: float) -> TaskQueue:
        return TaskQueue(self.store, lease_seconds)

    def write(self, fn: Callable[[Tx], T]) -> T:
        queue = self.queue(0)
        return self.store.write(lambda conn: fn(SqliteTx(conn, queue)))

    def read(self, fn: Callable[[Tx], T]) -> T:
        with self.store.snapshot() as conn:
            return fn(SqliteTx(conn, self.queue(0)))

    def close(self) -> None:
        self.store.close()

