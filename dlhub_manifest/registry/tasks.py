"""Task lifecycle: queued → running → succeeded | failed, with leases so a dead worker's task is not stuck.

A worker claims a task with a lease that its heartbeat extends. When the lease expires, or the worker's
process is gone (same host), the task is queued again (up to MAX_ATTEMPTS) or failed with a message.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlhub_manifest.errors import RegistryError
from dlhub_manifest.registry.contracts import PublicationRequest, TaskInfo, TaskMessage, TaskResult, TaskStatus
from dlhub_manifest.registry.doorbell import Doorbell
from dlhub_manifest.registry.store import Store, dumps, loads

MAX_ATTEMPTS = 3
LEASE_SECONDS = 30.0


class LeaseLost(RegistryError):
    """The worker no longer holds the task (its lease expired and another worker took it over)."""


@dataclass(frozen=True)
class Task:
    """One publication task as stored."""

    id: str
    identity: str
    owner: str
    kind: str
    status: TaskStatus
    request: dict[str, Any]
    messages: list[TaskMessage]
    result: TaskResult | None
    servable: str | None
    attempts: int
    lease_owner: str | None
    lease_expires: float | None
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Task:
        data = dict(row)
        for key in ("request", "messages", "result"):
            data[key] = loads(data[key])
        return cls.from_record(data)

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Task:
        """A task from its columns, JSON ones already decoded."""
        fields = {k: v for k, v in data.items() if k != "idempotency_key"}
        return cls(**{**fields, "status": TaskStatus(fields["status"])})

    def public(self) -> TaskInfo:
        """What `status` shows: no request internals, no lease bookkeeping."""
        return {"task_id": self.id, "status": self.status.value, "kind": self.kind, "servable": self.servable,
                "messages": self.messages, "result": self.result, "attempts": self.attempts,
                "created_at": self.created_at, "updated_at": self.updated_at}


def new_worker_id() -> str:
    """`host:pid:nonce`: unique per worker, and tells a same-host reaper which process to check."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def message(text: str, level: str = "info") -> TaskMessage:
    """One task message, timestamped."""
    return {"time": time.time(), "level": level, "text": text}


class TaskQueue:
    """The tasks table of one store."""

    def __init__(self, store: Store, lease_seconds: float = LEASE_SECONDS) -> None:
        self.store = store
        self.lease_seconds = lease_seconds

    @property
    def root(self) -> Path:
        """The registry folder (where the doorbell hangs)."""
        return self.store.root

    def bell(self) -> Doorbell:
        """What an idle worker sleeps on: the registry folder's doorbell, rung when a task is queued."""
        return Doorbell(self.root)

    def create(self, identity: str, owner: str, kind: str, request: PublicationRequest, servable: str,
               idempotency_key: str | None = None) -> str:
        """Queue a task and return its id; the same idempotency key returns the first task's id."""
        task_id = str(uuid.uuid4())
        now = time.time()

        def insert(conn: sqlite3.Connection) -> str:
            if idempotency_key:
                row = conn.execute("SELECT id FROM tasks WHERE identity = ? AND idempotency_key = ?",
                                   (identity, idempotency_key)).fetchone()
                if row:
                    return str(row[0])
            conn.execute(
                "INSERT INTO tasks (id, identity, owner, kind, status, request, messages, servable, "
                "idempotency_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (task_id, identity, owner, kind, TaskStatus.QUEUED, dumps(request),
                 dumps([message(TaskStatus.QUEUED.value)]), servable, idempotency_key, now, now))
            return task_id

        created = self.store.write(insert)
        ring_doorbell(self.store.root)
        return created

    def get(self, task_id: str) -> Task | None:
        """The task, or None."""
        row = self.store.conn.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        return Task.from_row(row) if row else None

    def pending(self) -> int:
        """How many tasks wait for a worker (queued, or running under a lease that has run out)."""
        row = self.store.conn.execute(
            "SELECT COUNT(*) FROM tasks WHERE status = ? OR (status = ? AND lease_expires < ?)",
            (TaskStatus.QUEUED, TaskStatus.RUNNING, time.time())).fetchone()
        return int(row[0])

    def claim(self, worker: str, owner_limit: int | None = None) -> Task | None:
        """Take the oldest queued task under a fresh lease (after reaping dead workers' tasks), or None.

        `owner_limit`: skip the tasks of owners who already have that many running (fair to the others).
        """
        self.reap()

        def take(conn: sqlite3.Connection) -> Task | None:
            if owner_limit is None:
                row = conn.execute("SELECT id FROM tasks WHERE status = ? ORDER BY created_at LIMIT 1",
                                   (TaskStatus.QUEUED,)).fetchone()
            else:
                row = conn.execute("SELECT id FROM tasks WHERE status = ? AND owner NOT IN (SELECT owner FROM tasks "
                                   "WHERE status = ? GROUP BY owner HAVING COUNT(*) >= ?) ORDER BY created_at "
                                   "LIMIT 1", (TaskStatus.QUEUED, TaskStatus.RUNNING, owner_limit)).fetchone()
            if row is None:
                return None
            now = time.time()
            conn.execute("UPDATE tasks SET status = ?, attempts = attempts + 1, lease_owner = ?, "
                         "lease_expires = ?, updated_at = ? WHERE id = ?",
                         (TaskStatus.RUNNING, worker, now + self.lease_seconds, now, row[0]))
            _append(conn, row[0], message(TaskStatus.RUNNING.value))
            return Task.from_row(conn.execute("SELECT * FROM tasks WHERE id = ?", (row[0],)).fetchone())

        return self.store.write(take)

    def heartbeat(self, task_id: str, worker: str) -> bool:
        """Extend the lease; False when the worker no longer holds the task."""
        def beat(conn: sqlite3.Connection) -> bool:
            now = time.time()
            cur = conn.execute("UPDATE tasks SET lease_expires = ? WHERE id = ? AND lease_owner = ? AND status = ?",
                               (now + self.lease_seconds, task_id, worker, TaskStatus.RUNNING))
            return cur.rowcount == 1

        return self.store.write(beat)

    def note(self, task_id: str, text: str, level: str = "info") -> None:
        """Add a progress message to a task."""
        self.store.write(lambda conn: _append(conn, task_id, message(text, level)))

    def finish(self, conn: sqlite3.Connection, task_id: str, worker: str, status: TaskStatus, text: str,
               result: TaskResult | None = None) -> None:
        """Close a task inside the caller's transaction; raises LeaseLost when another worker took it over."""
        cur = conn.execute("UPDATE tasks SET status = ?, result = ?, lease_owner = NULL, lease_expires = NULL, "
                           "updated_at = ? WHERE id = ? AND lease_owner = ? AND status = ?",
                           (status, dumps(result) if result is not None else None, time.time(), task_id, worker,
                            TaskStatus.RUNNING))
        if cur.rowcount != 1:
            raise LeaseLost(f"task {task_id} was taken over by another worker")
        _append(conn, task_id, message(text, "error" if status == TaskStatus.FAILED else "info"))

    def fail(self, task_id: str, worker: str, text: str) -> None:
        """Mark a task failed with a message that says what failed and how to fix it."""
        self.store.write(lambda conn: self.finish(conn, task_id, worker, TaskStatus.FAILED, text))

    def reap(self) -> int:
        """Requeue or fail running tasks whose worker is gone; returns how many were reaped."""
        def sweep(conn: sqlite3.Connection) -> int:
            rows = conn.execute("SELECT id, attempts, lease_owner, lease_expires FROM tasks WHERE status = ?",
                                (TaskStatus.RUNNING,)).fetchall()
            dead = [r for r in rows if _worker_gone(r["lease_owner"], r["lease_expires"])]
            for row in dead:
                _orphaned(conn, row["id"], row["attempts"], row["lease_owner"])
            return len(dead)

        return self.store.write(sweep)


def ring_doorbell(root: Path) -> None:
    """Wake an idle worker (see `doorbell`); a missed ring only delays it until its next database check."""
    from dlhub_manifest.registry.doorbell import ring

    ring(root)


def _append(conn: sqlite3.Connection, task_id: str, entry: TaskMessage) -> None:
    row = conn.execute("SELECT messages FROM tasks WHERE id = ?", (task_id,)).fetchone()
    messages = [*loads(row[0]), entry]
    conn.execute("UPDATE tasks SET messages = ?, updated_at = ? WHERE id = ?", (dumps(messages), time.time(), task_id))


def orphan_outcome(attempts: int, worker: str | None) -> tuple[TaskStatus, TaskMessage]:
    """What becomes of a task whose worker died: queued again, or failed after MAX_ATTEMPTS; with its message."""
    why = f"the worker running this task ({worker}) stopped before finishing (killed or crashed)"
    if attempts >= MAX_ATTEMPTS:
        return TaskStatus.FAILED, message(
            f"{why} {attempts} times; giving up. Nothing was registered. Publish again; if it keeps failing, "
            "look at the worker log in the registry's logs/ folder and run `dlhub-manifest registry check`",
            "error")
    return TaskStatus.QUEUED, message(f"{why}; queued again (attempt {attempts + 1} of {MAX_ATTEMPTS})", "warning")


def _orphaned(conn: sqlite3.Connection, task_id: str, attempts: int, worker: str | None) -> None:
    status, entry = orphan_outcome(attempts, worker)
    conn.execute("UPDATE tasks SET status = ?, lease_owner = NULL, lease_expires = NULL WHERE id = ?",
                 (status, task_id))
    _append(conn, task_id, entry)


def _worker_gone(worker: str | None, lease_expires: float | None) -> bool:
    if lease_expires is not None and lease_expires < time.time():
        return True
    return process_gone(worker)


def process_gone(worker: str | None) -> bool:
    """Whether `worker` (`host:pid:nonce`) ran on this host and its process has ended."""
    host, _, rest = (worker or "").partition(":")
    pid = rest.partition(":")[0]
    return host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid))


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs on this host (a zombie, killed but not yet reaped, counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True
