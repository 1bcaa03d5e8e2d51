"""The worker as a real process: spawned after submitting, one per registry, and a dead one's task recovers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from publish_support import make_project, wait_done, wait_for

from dlhub_manifest.publish.files import prepare_files, submit
from dlhub_manifest.registry.check import check_registry
from dlhub_manifest.registry.service import Identity
from dlhub_manifest.registry.worker import run_worker, try_lock, worker_alive
from dlhub_manifest.targets.local import LocalTarget

ALICE = Identity("local:alice", "alice")
CLAIMER = """
import sys, time
from pathlib import Path
from dlhub_manifest.registry.store import Store
from dlhub_manifest.registry.tasks import TaskQueue, new_worker_id
task = TaskQueue(Store(Path(sys.argv[1]))).claim(new_worker_id())
print(task.id if task else "none", flush=True)
time.sleep(120)
"""


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(tmp_path / "cache"))


def test_submit_spawns_a_worker_process_that_finishes_the_task(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "registry", ALICE)
    task_id = submit(target, prepare_files(make_project(tmp_path / "p"), inspect=False))
    status = wait_done(target, task_id)
    assert status["status"] == "succeeded", status["messages"]
    assert "task" in (tmp_path / "registry" / "logs" / "worker.log").read_text()
    assert target.list_servables()[0]["servable"] == "alice/demo"


def test_only_one_worker_holds_a_registry(tmp_path: Path) -> None:
    lock = try_lock(tmp_path)
    assert lock is not None
    assert try_lock(tmp_path) is None
    assert run_worker(tmp_path, idle=0) == 0  # another worker "is running": this one leaves at once
    lock.close()


def test_task_of_a_killed_worker_is_taken_up_again(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    target = LocalTarget(root, ALICE)
    prepared = prepare_files(make_project(tmp_path / "p"), inspect=False)
    holder = try_lock(root)  # keep the spawned worker out, so our stand-in claims the task
    task_id = submit(target, prepared)
    claimer = subprocess.Popen([sys.executable, "-c", CLAIMER, str(root)], stdout=subprocess.PIPE, text=True)
    assert claimer.stdout is not None and claimer.stdout.readline().strip() == task_id
    assert target.service.task(ALICE, task_id)["status"] == "running"
    claimer.kill()
    claimer.wait()
    claimer.stdout.close()
    assert holder is not None
    holder.close()
    status = wait_done(target, task_id)
    assert status["status"] == "succeeded", status["messages"]
    assert status["attempts"] == 2
    assert any("stopped before finishing" in m["text"] and "queued again" in m["text"] for m in status["messages"])
    assert check_registry(root).ok


def test_worker_leaves_when_idle(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "registry", ALICE)
    wait_done(target, submit(target, prepare_files(make_project(tmp_path / "p"), inspect=False)))
    wait_for(lambda: not worker_alive(tmp_path / "registry"))
