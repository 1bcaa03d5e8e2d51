"""Workers that cannot be starved: a repository remote that accepts connections and never answers holds one
worker of one owner, until the fetch's time limit or the task's deadline; another owner's publication beside
it succeeds within seconds. A real `serve` with two workers, a real git HTTP forge and a silent socket."""

from __future__ import annotations

import time
from pathlib import Path

import requests
from git_server import silent_socket
from publish_support import make_repo
from registry_server import Server, running_server
from test_registry_hardening import last, post, push, repo_request, wait_task


def status(server: Server, task_id: str, user: str) -> str:
    answer = requests.get(f"{server.url}/tasks/{task_id}", headers=server.headers(user), timeout=10).json()
    return str(answer["status"])


def test_a_hanging_remote_never_blocks_another_owner(tmp_path: Path, forge: tuple[str, Path]) -> None:
    (tmp_path / "srv").mkdir()
    with silent_socket() as port, running_server(tmp_path / "srv", "--allow-repository-host", "127.0.0.1",
                                                 "--workers", "2", "--max-running-per-owner", "1",
                                                 "--repository-timeout", "8") as srv:
        hanging = make_repo(tmp_path / "hang", name="hang")
        stuck = [post(srv, repo_request(hanging, f"http://127.0.0.1:{port}/lab/hang{i}.git")).json()["task_id"]
                 for i in range(2)]
        good = make_repo(tmp_path / "good", name="good")
        started = time.monotonic()
        task = wait_task(srv, post(srv, repo_request(good, push(forge, good, "good")), "bob").json()["task_id"],
                         "bob", timeout=30)
        took = time.monotonic() - started
        assert task["status"] == "succeeded", last(task)
        assert took < 7, f"bob waited {took:.1f}s behind alice's hanging fetches"
        # alice's first fetch still hangs, and her second waits for it (one running task per owner)
        assert [status(srv, t, "alice") for t in stuck] == ["running", "queued"]
        first = wait_task(srv, stuck[0], timeout=30)
        assert first["status"] == "failed"
        assert "did not finish within 8 s (this registry's time limit)" in last(first), last(first)


def test_a_task_deadline_bounds_a_fetch_with_a_longer_limit(tmp_path: Path) -> None:
    (tmp_path / "srv").mkdir()
    with silent_socket() as port, running_server(tmp_path / "srv", "--allow-repository-host", "127.0.0.1",
                                                 "--task-deadline", "3", "--repository-timeout", "600") as srv:
        hanging = make_repo(tmp_path / "hang", name="hang")
        started = time.monotonic()
        task = wait_task(srv, post(srv, repo_request(hanging, f"http://127.0.0.1:{port}/x.git")).json()["task_id"],
                         timeout=30)
        assert task["status"] == "failed" and "did not finish within 3 s" in last(task), last(task)
        assert time.monotonic() - started < 15
