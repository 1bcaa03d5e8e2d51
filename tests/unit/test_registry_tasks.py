"""Database and task lifecycle: migrations, locked writers retried, leases, dead workers reaped."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dlhub_manifest.errors import RegistryError
from dlhub_manifest.registry import tasks as tasks_module
from dlhub_manifest.registry.contracts import TaskStatus
from dlhub_manifest.registry.records import Queue, Records, open_records
from dlhub_manifest.registry.store import MIGRATIONS, Store
from dlhub_manifest.registry.tasks import MAX_ATTEMPTS, LeaseLost


@pytest.fixture
def records(tmp_path: Path, database: str | None) -> Iterator[Records]:
    records = open_records(tmp_path, database)
    yield records
    records.close()


@pytest.fixture
def queue(records: Records) -> Queue:
    return records.queue(30)


def create(queue: Queue, key: str | None = None) -> str:
    return queue.create("local:alice", "alice", "files", {"document": {}}, "alice/demo", key)


def finish(records: Records, task_id: str, worker: str, status: str, text: str,
           result: dict[str, Any] | None = None) -> None:
    records.write(lambda tx: tx.finish(task_id, worker, status, text, result))


def test_new_database_is_migrated_and_in_wal_mode(tmp_path: Path) -> None:
    conn = Store(tmp_path).conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"servables", "versions", "version_files", "tasks"} <= tables


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    Store(tmp_path).close()
    raw = sqlite3.connect(tmp_path / "registry.sqlite3")
    raw.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    raw.close()
    with pytest.raises(RegistryError, match="newer dlhub-manifest"):
        _ = Store(tmp_path).conn


def test_write_waits_for_another_writer_instead_of_failing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store(tmp_path)
    _ = store.conn
    other = sqlite3.connect(tmp_path / "registry.sqlite3", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    # A short busy timeout makes SQLite give up at once, so the retry loop is what has to wait.
    store.conn.execute("PRAGMA busy_timeout = 1")
    threading.Timer(0.3, lambda: other.execute("COMMIT")).start()
    store.write(lambda c: c.execute("INSERT INTO servables (owner, name, uuid, created_at) VALUES ('a', 'b', 'u', 0)"))
    assert store.conn.execute("SELECT COUNT(*) FROM servables").fetchone()[0] == 1
    other.close()


def test_lifecycle_queued_running_succeeded(records: Records, queue: Queue) -> None:
    task_id = create(queue)
    assert queue.get(task_id).status == TaskStatus.QUEUED  # type: ignore[union-attr]
    task = queue.claim("host:1:w")
    assert task is not None and task.id == task_id and task.status == TaskStatus.RUNNING and task.attempts == 1
    assert queue.claim("host:2:w") is None  # nothing else queued
    finish(records, task_id, "host:1:w", TaskStatus.SUCCEEDED, "done",
           {"version": "0.1.0"})  # type: ignore[typeddict-item]
    done = queue.get(task_id)
    assert done is not None and done.status == TaskStatus.SUCCEEDED and done.result == {"version": "0.1.0"}
    assert [m["text"] for m in done.messages] == ["queued", "running", "done"]


def test_idempotency_key_returns_the_first_task(queue: Queue) -> None:
    first = create(queue, key="retry-me")
    assert create(queue, key="retry-me") == first
    assert create(queue, key="another") != first


def test_finishing_a_task_taken_over_raises_lease_lost(records: Records, queue: Queue) -> None:
    task_id = create(queue)
    queue.claim("host:1:a")
    with pytest.raises(LeaseLost):
        finish(records, task_id, "host:1:b", TaskStatus.SUCCEEDED, "not mine")
    assert queue.get(task_id).status == TaskStatus.RUNNING  # type: ignore[union-attr]


def test_expired_lease_is_requeued_then_failed_with_a_message(records: Records) -> None:
    queue = records.queue(lease_seconds=-1)  # every lease is already over
    task_id = create(queue)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        task = queue.claim(f"otherhost:1:w{attempt}")
        assert task is not None and task.attempts == attempt
        queue.reap()
    final = queue.get(task_id)
    assert final is not None and final.status == TaskStatus.FAILED
    assert "stopped before finishing" in final.messages[-1]["text"]
    assert "Publish again" in final.messages[-1]["text"]
    assert any("queued again (attempt 2 of 3)" in m["text"] for m in final.messages)


def test_task_of_a_killed_worker_process_is_reaped_at_once(queue: Queue) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    worker = f"{tasks_module.socket.gethostname()}:{proc.pid}:abc"
    task_id = create(queue)
    queue.claim(worker)
    assert queue.reap() == 0  # alive, lease valid: left alone
    proc.kill()
    proc.wait()
    assert queue.reap() == 1
    task = queue.get(task_id)
    assert task is not None and task.status == TaskStatus.QUEUED and task.lease_owner is None


def test_heartbeat_extends_the_lease_only_for_its_holder(queue: Queue) -> None:
    task_id = create(queue)
    queue.claim("host:1:a")
    before = queue.get(task_id).lease_expires  # type: ignore[union-attr]
    time.sleep(0.01)
    assert queue.heartbeat(task_id, "host:1:a") is True
    assert queue.get(task_id).lease_expires > before  # type: ignore[operator,union-attr]
    assert queue.heartbeat(task_id, "host:1:b") is False


def test_pending_counts_queued_and_expired_tasks(records: Records) -> None:
    queue = records.queue(lease_seconds=-1)
    create(queue)
    create(queue)
    assert queue.pending() == 2
    for worker in ("otherhost:1:a", "otherhost:1:b"):
        task = queue.claim(worker)
        assert task is not None and queue.pending() >= 1  # running under an expired lease still counts
        finish(records, task.id, worker, TaskStatus.SUCCEEDED, "done")
    assert queue.pending() == 0
