"""The task queue on PostgreSQL, shared by every `serve` and `worker` process on the database.

Queuing a task sends a NOTIFY that wakes idle workers on every machine. A claim takes the oldest queued task
no other transaction holds (`FOR UPDATE SKIP LOCKED`), so two workers never take the same task and never wait
for each other. A task's lease is kept in database time; when it runs out (the holder died or lost the
network), or its holder's process is gone on this host, the next claim puts the task back in the queue (or
fails it after MAX_ATTEMPTS) and any worker takes it over.
"""

from __future__ import annotations

import socket
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from dlhub_manifest.errors import RegistryError
from dlhub_manifest.registry.contracts import PublicationRequest, TaskMessage, TaskResult, TaskStatus
from dlhub_manifest.registry.pg.connect import connect
from dlhub_manifest.registry.tasks import LeaseLost, Task, message, orphan_outcome, process_gone

QUEUED, RUNNING = TaskStatus.QUEUED.value, TaskStatus.RUNNING.value

if TYPE_CHECKING:
    import psycopg

    from dlhub_manifest.registry.pg.records import PgRecords

CHANNEL = "dlhub_tasks"  # NOTIFY channel: a task was queued


def _jsonb(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)


class PgTaskQueue:
    """The tasks table of one PostgreSQL database."""

    def __init__(self, records: PgRecords, lease_seconds: float) -> None:
        self.records = records
        self.lease_seconds = lease_seconds

    @property
    def root(self) -> Path:
        """The registry folder beside the database."""
        return self.records.root

    def bell(self) -> Listener:
        """What an idle worker sleeps on: a notification from whichever server queued a task."""
        return Listener(self.records.url)

    def create(self, identity: str, owner: str, kind: str, request: PublicationRequest, servable: str,
               idempotency_key: str | None = None) -> str:
        """Queue a task and return its id; the same idempotency key returns the first task's id."""
        def insert(conn: psycopg.Connection[Any]) -> str:
            now = time.time()
            row = conn.execute(
                "INSERT INTO tasks (id, identity, owner, kind, status, request, messages, servable, "
                "idempotency_key, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (identity, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING RETURNING id",
                (str(uuid.uuid4()), identity, owner, kind, QUEUED, _jsonb(request), _jsonb([message(QUEUED)]),
                 servable, idempotency_key, now, now)).fetchone()
            if row is None:
                row = conn.execute("SELECT id FROM tasks WHERE identity = %s AND idempotency_key = %s",
                                   (identity, idempotency_key)).fetchone()
            else:
                conn.execute(f"NOTIFY {CHANNEL}")
            assert row is not None
            return str(row["id"])

        return self.records.transact(insert)

    def get(self, task_id: str) -> Task | None:
        """The task, or None."""
        row = self.records.transact(lambda c: c.execute("SELECT * FROM tasks WHERE id = %s", (task_id,)).fetchone())
        return Task.from_record(row) if row else None

    def pending(self) -> int:
        """How many tasks wait for a worker (queued, or running under a lease that has run out)."""
        row = self.records.transact(lambda c: c.execute(
            "SELECT COUNT(*) AS n FROM tasks WHERE status = %s OR (status = %s AND lease_expires < dlhub_now())",
            (QUEUED, RUNNING)).fetchone())
        return int(row["n"]) if row else 0

    def claim(self, worker: str, owner_limit: int | None = None) -> Task | None:
        """Take the oldest queued task under a fresh lease (after reaping dead workers' tasks), or None.

        `owner_limit`: skip the tasks of owners who already have that many running (fair to the others; two
        workers claiming at the same instant may let an owner run one more)."""
        self.reap()
        fair, params = "", [RUNNING, worker, self.lease_seconds, time.time(), _jsonb([message(RUNNING)]), QUEUED]
        if owner_limit is not None:
            fair = ("AND owner NOT IN (SELECT owner FROM tasks WHERE status = %s GROUP BY owner "
                    "HAVING COUNT(*) >= %s) ")
            params += [RUNNING, owner_limit]
        row = self.records.transact(lambda c: c.execute(
            "UPDATE tasks SET status = %s, attempts = attempts + 1, lease_owner = %s, "
            "lease_expires = dlhub_now() + %s, updated_at = %s, messages = messages || %s "
            f"WHERE id = (SELECT id FROM tasks WHERE status = %s {fair}ORDER BY created_at LIMIT 1 "
            "FOR UPDATE SKIP LOCKED) RETURNING *", params).fetchone())
        return Task.from_record(row) if row else None

    def heartbeat(self, task_id: str, worker: str) -> bool:
        """Extend the lease; False when the worker no longer holds the task."""
        cur = self.records.transact(lambda c: c.execute(
            "UPDATE tasks SET lease_expires = dlhub_now() + %s WHERE id = %s AND lease_owner = %s AND status = %s",
            (self.lease_seconds, task_id, worker, RUNNING)))
        return cur.rowcount == 1

    def note(self, task_id: str, text: str, level: str = "info") -> None:
        """Add a progress message to a task."""
        self.records.transact(lambda c: append(c, task_id, message(text, level)))

    def finish(self, conn: psycopg.Connection[Any], task_id: str, worker: str, status: TaskStatus, text: str,
               result: TaskResult | None = None) -> None:
        """Close a task inside the caller's transaction; raises LeaseLost when another worker took it over."""
        entry = message(text, "error" if status == TaskStatus.FAILED else "info")
        cur = conn.execute(
            "UPDATE tasks SET status = %s, result = %s, lease_owner = NULL, lease_expires = NULL, updated_at = %s, "
            "messages = messages || %s WHERE id = %s AND lease_owner = %s AND status = %s",
            (status.value, None if result is None else _jsonb(result), entry["time"], _jsonb([entry]), task_id,
             worker, RUNNING))
        if cur.rowcount != 1:
            raise LeaseLost(f"task {task_id} was taken over by another worker")

    def fail(self, task_id: str, worker: str, text: str) -> None:
        """Mark a task failed with a message that says what failed and how to fix it."""
        self.records.transact(lambda c: self.finish(c, task_id, worker, TaskStatus.FAILED, text))

    def reap(self) -> int:
        """Requeue or fail running tasks whose lease ran out or whose worker on this host is gone.

        Nothing is locked while looking: each dead task is updated only if it is still held by the same worker
        in the same attempt, so a task finished (or reaped by another server) meanwhile is left alone."""
        def sweep(conn: psycopg.Connection[Any]) -> int:
            rows = conn.execute(
                "SELECT id, attempts, lease_owner, lease_expires < dlhub_now() AS expired FROM tasks "
                "WHERE status = %s AND (lease_expires < dlhub_now() OR lease_owner LIKE %s)",
                (RUNNING, _like_prefix(socket.gethostname()) + ":%")).fetchall()
            reaped = 0
            for row in (r for r in rows if r["expired"] or process_gone(r["lease_owner"])):
                status, entry = orphan_outcome(row["attempts"], row["lease_owner"])
                reaped += conn.execute(
                    "UPDATE tasks SET status = %s, lease_owner = NULL, lease_expires = NULL, updated_at = %s, "
                    "messages = messages || %s WHERE id = %s AND status = %s AND lease_owner = %s AND attempts = %s",
                    (status.value, time.time(), _jsonb([entry]), row["id"], RUNNING, row["lease_owner"],
                     row["attempts"])).rowcount
            return reaped

        return self.records.transact(sweep)


class Listener:
    """Wakes a waiting worker when a task is queued on any server (PostgreSQL `LISTEN`/`NOTIFY`); without
    the connection it is a plain sleep, and the worker's periodic look at the queue covers for it."""

    def __init__(self, url: str) -> None:
        self._conn: psycopg.Connection[Any] | None = None
        try:
            self._conn = connect(url)
            self._conn.execute(f"LISTEN {CHANNEL}")
        except (RegistryError, OSError):
            self.close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def wait(self, timeout: float) -> bool:
        """Sleep until a task is queued or `timeout` seconds pass; True when one was."""
        import psycopg

        if self._conn is None:
            time.sleep(timeout)
            return False
        try:
            return any(True for _ in self._conn.notifies(timeout=timeout, stop_after=1))
        except psycopg.Error:
            self.close()  # the next look at the queue reports a lost database
            return False


def append(conn: psycopg.Connection[Any], task_id: str, entry: TaskMessage) -> None:
    """Add one message to a task (the array grows in place: no read-modify-write race)."""
    conn.execute("UPDATE tasks SET messages = messages || %s, updated_at = %s WHERE id = %s",
                 (_jsonb([entry]), time.time(), task_id))


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
