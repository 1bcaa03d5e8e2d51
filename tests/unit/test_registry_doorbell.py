"""The doorbell: an idle worker sleeps until a client queues a task, then wakes at once (no polling)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dlhub_manifest.registry import worker
from dlhub_manifest.registry.doorbell import NAME, Doorbell, ring
from dlhub_manifest.registry.store import Store
from dlhub_manifest.registry.tasks import TaskQueue
from dlhub_manifest.registry.worker import _wait_for_work

LONG = 60.0  # a test that hangs this long has failed: a working doorbell answers at once


def _in_thread(fn: object) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(fn()))  # type: ignore[operator]
    thread.start()
    return thread, out


def test_a_ring_wakes_the_listener_and_is_consumed(tmp_path: Path) -> None:
    with Doorbell(tmp_path) as bell:
        ring(tmp_path)
        ring(tmp_path)  # two rings before the listener looks: one wake-up
        assert bell.wait(LONG) is True
        assert bell.wait(0.01) is False


def test_a_ring_during_the_wait_wakes_it(tmp_path: Path) -> None:
    with Doorbell(tmp_path) as bell:
        started = threading.Event()

        def listen() -> bool:
            started.set()
            return bell.wait(LONG)

        thread, out = _in_thread(listen)
        started.wait()
        ring(tmp_path)
        thread.join()
    assert out == [True]


def test_ringing_with_nobody_listening_does_nothing(tmp_path: Path) -> None:
    ring(tmp_path)  # no pipe yet
    assert not (tmp_path / NAME).exists()
    Doorbell(tmp_path).__exit__(None, None, None)  # a worker came and went: the pipe stays, nobody reads
    ring(tmp_path)
    with Doorbell(tmp_path) as bell:
        assert bell.wait(0.01) is False  # nothing was left in the pipe by a ring nobody heard


def test_a_foreign_file_in_its_place_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / NAME).write_bytes(b"not a pipe")
    ring(tmp_path)
    with Doorbell(tmp_path) as bell:
        assert bell.wait(0.01) is False  # it just sleeps; the worker still asks the database
    assert (tmp_path / NAME).read_bytes() == b"not a pipe"


def test_an_idle_worker_wakes_when_a_task_is_queued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker, "QUERY_SECONDS", LONG)  # only the doorbell can wake it before the deadline
    queue = TaskQueue(Store(tmp_path))
    thread, out = _in_thread(lambda: _wait_for_work(TaskQueue(Store(tmp_path)), LONG))
    while not (tmp_path / NAME).exists():  # the worker is listening (or about to look at the queue)
        thread.join(0.001)
    queue.create("local:alice", "alice", "files", {"document": {}}, "alice/demo")
    thread.join()
    assert out == [True]


def test_an_idle_worker_gives_up_after_its_idle_time(tmp_path: Path) -> None:
    assert _wait_for_work(TaskQueue(Store(tmp_path)), 0.05) is False
