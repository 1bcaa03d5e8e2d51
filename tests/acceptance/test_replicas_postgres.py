"""Two `serve` replicas on one PostgreSQL database and one blob folder: eight publishers spread over both publish
25 versions each; halfway through one replica is killed (SIGKILL, with its worker, holding a task). No version
is lost or registered twice, and the task the dead replica held is finished by the other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from publish_support import make_project
from registry_server import TOKENS, Server, running_server

from dlhub_manifest.registry.check import check_registry

PUBLISHERS, VERSIONS = 8, 25
PUBLISHER = """
import sys, time
from pathlib import Path
from globus_sdk.transport import RetryConfig
from dlhub_manifest.errors import DLHubManifestError
from dlhub_manifest.publish.files import Progress, prepare_files, upload_missing, wait_for_task

from dlhub_manifest.targets.http import HttpTarget
project, urls, count = Path(sys.argv[1]), sys.argv[2:4], int(sys.argv[4])
targets = [HttpTarget.from_name(u, retry_config=RetryConfig(max_retries=0)) for u in urls]
for i in range(count):
    (project / "weights.bin").write_bytes(f"{project.name} weights {i}".encode())
    prepared = prepare_files(project, inspect=False)
    request = prepared.request()  # one idempotency key for every attempt: a resubmission finds the same task
    for attempt in range(20):
        target = targets[0]
        try:
            upload_missing(target, prepared, Progress())
            status = wait_for_task(target, target.publish(dict(request)), timeout=120)
            break
        except (DLHubManifestError, OSError) as e:  # this replica is gone: the load balancer's job, done here
            print(f"failover after: {e}", file=sys.stderr, flush=True)
            targets.reverse()
            time.sleep(0.2)
    assert status["status"] == "succeeded", status
    print(status["result"]["version"], flush=True)
"""


def _held_by(url: str, pid: int) -> list[str]:
    """Ids of the running tasks whose lease a worker process `pid` holds."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT id, lease_owner FROM tasks WHERE status = 'running'").fetchall()
    return [task_id for task_id, owner in rows if owner.split(":")[1] == str(pid)]


def _workers_of(server: Server) -> list[int]:
    """The replica's worker processes (children of serve's supervisor threads)."""
    threads = Path(f"/proc/{server.proc.pid}/task").iterdir()
    workers = [int(c) for t in threads for c in (t / "children").read_text().split()]
    assert workers, "the replica runs no worker"
    return workers


def _published(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT COUNT(*) FROM versions").fetchone()
    return int(row[0]) if row else 0


def _kill_while_holding_a_task(url: str, server: Server) -> str:
    """Freeze the replica's workers while one holds a task, then SIGKILL the replica and its workers."""
    workers = _workers_of(server)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(_held_by(url, w) for w in workers):
            for w in workers:
                os.kill(w, signal.SIGSTOP)
            held = [t for w in workers for t in _held_by(url, w)]  # still holding one once frozen?
            if held:
                server.proc.kill()
                for w in workers:
                    os.kill(w, signal.SIGKILL)
                server.proc.wait()
                return held[0]
            for w in workers:
                os.kill(w, signal.SIGCONT)
        time.sleep(0.002)
    raise AssertionError("the replica's workers never held a task")


@pytest.mark.slow
def test_two_replicas_lose_nothing_and_take_over_a_killed_ones_task(tmp_path: Path, postgres_url: str) -> None:
    root = tmp_path / "registry"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with running_server(tmp_path / "a", "--database", postgres_url, root=root) as a, \
            running_server(tmp_path / "b", "--database", postgres_url, root=root) as b:
        env = {**os.environ, "DLHUB_MANIFEST_TOKEN": TOKENS["alice"],
               "DLHUB_MANIFEST_CACHE_DIR": str(tmp_path / "cache"), "DLHUB_MANIFEST_CONFIG_DIR": str(tmp_path / "c")}
        procs = []
        for n in range(PUBLISHERS):
            project = make_project(tmp_path / f"p{n}", name=f"demo-{n}")
            urls = [a.url, b.url] if n % 2 == 0 else [b.url, a.url]
            procs.append(subprocess.Popen([sys.executable, "-c", PUBLISHER, str(project), *urls, str(VERSIONS)],
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
        try:
            while _published(postgres_url) < PUBLISHERS * VERSIONS // 2:
                assert all(p.poll() is None for p in procs), [p.communicate() for p in procs if p.poll() is not None]
                time.sleep(0.05)
            taken = _kill_while_holding_a_task(postgres_url, a)
        finally:
            outputs = [p.communicate(timeout=600) for p in procs]
        for proc, (out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, err
            assert out.split() == [f"0.1.{i}" for i in range(VERSIONS)], err
    with psycopg.connect(postgres_url) as conn:
        status, attempts, messages = conn.execute("SELECT status, attempts, messages FROM tasks WHERE id = %s",
                                                  (taken,)).fetchone()  # type: ignore[misc]
        per_servable = conn.execute("SELECT s.name, COUNT(*), COUNT(DISTINCT v.version) FROM versions v JOIN "
                                    "servables s ON s.id = v.servable_id GROUP BY s.name ORDER BY s.name").fetchall()
    assert status == "succeeded" and attempts == 2
    assert any("stopped before finishing" in m["text"] for m in messages)
    assert per_servable == [(f"demo-{n}", VERSIONS, VERSIONS) for n in range(PUBLISHERS)]
    report = check_registry(root, database=postgres_url)
    assert report.ok and report.versions == PUBLISHERS * VERSIONS, report.errors
