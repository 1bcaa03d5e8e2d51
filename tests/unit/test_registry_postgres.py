"""What only the PostgreSQL records do: versioned migrations and refusing an unknown schema, claims that never
collide between workers, a version registered once under a race, and a dead worker's task taken over."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from publish_support import make_project

from dlhub_manifest.errors import RegistryError
from dlhub_manifest.publish.files import prepare_files, submit
from dlhub_manifest.registry import worker as worker_module
from dlhub_manifest.registry.check import check_registry
from dlhub_manifest.registry.contracts import TaskStatus
from dlhub_manifest.registry.pg import records as pg_records
from dlhub_manifest.registry.pg.migrate import CURRENT
from dlhub_manifest.registry.records import open_records, upgrade
from dlhub_manifest.registry.register import Registration, register
from dlhub_manifest.registry.service import Identity, RegistryService
from dlhub_manifest.registry.worker import run_worker
from dlhub_manifest.targets.local import LocalTarget

ALICE = Identity("local:alice", "alice")
CLAIMER = """
import sys, time
from pathlib import Path
from dlhub_manifest.registry.records import open_records
from dlhub_manifest.registry.tasks import new_worker_id
task = open_records(Path(sys.argv[1]), sys.argv[2]).queue(30).claim(new_worker_id())
print(task.id if task else "none", flush=True)
time.sleep(120)
"""


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(tmp_path / "cache"))


def _set_schema(url: str, version: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE dlhub_schema SET version = %s", (version,))


def test_upgrade_creates_the_schema_once_and_then_has_nothing_to_do(tmp_path: Path, blank_postgres_url: str,
                                                                     run_cli: Any) -> None:
    with pytest.raises(RegistryError, match="has no registry schema yet.*registry upgrade --database"):
        open_records(tmp_path, blank_postgres_url).queue(30).pending()
    out = run_cli("registry", "upgrade", "--registry", str(tmp_path), "--database", blank_postgres_url).stdout
    assert f"from version 0 to {CURRENT}" in out
    assert upgrade(tmp_path, blank_postgres_url) == (CURRENT, CURRENT)
    out = run_cli("registry", "upgrade", "--registry", str(tmp_path), "--database", blank_postgres_url).stdout
    assert f"is up to date (version {CURRENT})" in out
    records = open_records(tmp_path, blank_postgres_url)
    assert records.queue(30).pending() == 0
    records.close()


@pytest.mark.parametrize(("version", "message"), [(CURRENT + 1, "newer than this dlhub-manifest knows"),
                                                   (CURRENT - 1, "run `dlhub-manifest registry upgrade")])
def test_a_schema_other_than_the_known_one_is_refused(tmp_path: Path, postgres_url: str, version: int,
                                                      message: str) -> None:
    _set_schema(postgres_url, version)
    with pytest.raises(RegistryError, match=message):
        RegistryService(tmp_path, database=postgres_url).list_servables(ALICE)


def test_serve_refuses_to_start_on_an_unknown_schema(tmp_path: Path, postgres_url: str) -> None:
    _set_schema(postgres_url, CURRENT + 1)
    done = subprocess.run([sys.executable, "-m", "dlhub_manifest", "serve", "--registry", str(tmp_path / "r"),
                           "--database", postgres_url, "--tokens", str(_tokens(tmp_path)), "--port", "0"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "newer than this dlhub-manifest knows" in done.stderr and "Traceback" not in done.stderr


def test_a_wrong_url_is_a_usage_error_and_a_dead_server_says_so(tmp_path: Path, run_cli: Any) -> None:
    out = run_cli("registry", "check", "--registry", str(tmp_path), "--database", "mysql://x/y", expect=2)
    assert "postgresql://USER@HOST:PORT/DB" in out.stderr
    with pytest.raises(RegistryError, match="cannot connect to the registry database postgresql://u:\\*\\*\\*@"):
        RegistryService(tmp_path, database="postgresql://u:hunter2@127.0.0.1:9/db").list_servables(ALICE)


def test_concurrent_claims_take_every_task_exactly_once(tmp_path: Path, postgres_url: str) -> None:
    records = open_records(tmp_path, postgres_url)
    created = {records.queue(30).create("local:alice", "alice", "files", {"n": n}, "alice/demo") for n in range(60)}
    records.close()
    claimed: list[str] = []
    lock = threading.Lock()

    def claimer(n: int) -> None:
        mine = open_records(tmp_path, postgres_url)
        queue = mine.queue(30)
        while (task := queue.claim(f"otherhost:{n}:w")) is not None:
            with lock:
                claimed.append(task.id)
        mine.close()

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == sorted(created)  # none lost, none twice


def test_a_version_inserted_concurrently_is_registered_once(tmp_path: Path, postgres_url: str,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Both workers decide on 1.0.0 before either commits: the unique constraint stops the second insert,
    whose transaction runs again and finds the version already published."""
    inserted, attempts = threading.Event(), {"b": 0}
    original = pg_records.PgTx.insert_version

    def insert_version(self: pg_records.PgTx, row: dict[str, Any], files: Any) -> int:
        if threading.current_thread().name == "b":
            attempts["b"] += 1
        version_id = original(self, row, files)
        if threading.current_thread().name == "a":
            inserted.set()
            time.sleep(0.5)  # hold the uncommitted row while b chooses the same version and inserts it
        return version_id

    monkeypatch.setattr(pg_records.PgTx, "insert_version", insert_version)
    setup = open_records(tmp_path, postgres_url)
    setup.write(lambda tx: tx.ensure_servable("alice", "demo", "uuid-1", time.time()))  # published before
    queue = setup.queue(30)
    tasks = {}
    for who in ("a", "b"):
        queue.create("local:alice", "alice", "files", {}, "alice/demo")
        tasks[who] = queue.claim(f"otherhost:1:{who}")
    document = {"dlhub": {"name": "demo"}, "datacite": {"titles": [{"title": "Demo"}]}}
    reg = Registration(document, [], "1.0.0", {})

    def run(who: str) -> None:
        if who == "b":
            inserted.wait(10)
        mine = open_records(tmp_path, postgres_url)
        register(mine, tasks[who], f"otherhost:1:{who}", reg)  # type: ignore[arg-type]
        mine.close()

    threads = [threading.Thread(target=run, args=(who,), name=who) for who in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    a, b = (queue.get(tasks[w].id) for w in ("a", "b"))  # type: ignore[union-attr]
    setup.close()
    assert a is not None and b is not None and a.status == b.status == TaskStatus.SUCCEEDED
    assert a.result["already_published"] is False and b.result["already_published"] is True  # type: ignore[index]
    assert attempts["b"] == 1  # b's first insert collided; its retry found the version and inserted nothing
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT version FROM versions").fetchall() == [("1.0.0",)]


class _Target(LocalTarget):
    """The local target on PostgreSQL records, without spawning a worker (the test runs one)."""

    def __init__(self, root: Path, database: str) -> None:
        super().__init__(root, ALICE)
        self.service = RegistryService(root, database=database)

    def publish(self, request: dict[str, Any]) -> str:
        return self.service.publish(self.identity, request)


@pytest.fixture
def target(tmp_path: Path, postgres_url: str) -> Iterator[_Target]:
    target = _Target(tmp_path / "registry", postgres_url)
    yield target
    target.service.close()


def test_task_of_a_killed_worker_is_finished_by_another(tmp_path: Path, postgres_url: str, target: _Target) -> None:
    task_id = submit(target, prepare_files(make_project(tmp_path / "p"), inspect=False))
    claimer = subprocess.Popen([sys.executable, "-c", CLAIMER, str(target.root), postgres_url],
                               stdout=subprocess.PIPE, text=True)
    assert claimer.stdout is not None and claimer.stdout.readline().strip() == task_id
    assert target.task(task_id)["status"] == "running"
    claimer.kill()
    claimer.wait()
    claimer.stdout.close()
    assert run_worker(target.root, idle=0, database=postgres_url) == 1
    status = target.task(task_id)
    assert status["status"] == "succeeded" and status["attempts"] == 2, status["messages"]
    assert any("stopped before finishing" in m["text"] and "queued again" in m["text"] for m in status["messages"])
    assert check_registry(target.root, database=postgres_url).ok


def _tokens(folder: Path) -> Path:
    path = folder / "tokens.yaml"
    path.write_text("t0123456789abcdef0123: {id: 'local:alice', username: alice}\n")
    return path


def test_an_idle_worker_wakes_when_another_server_queues_a_task(tmp_path: Path, postgres_url: str,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_module, "QUERY_SECONDS", 60.0)  # no periodic look: only the notification wakes it
    records, elsewhere = open_records(tmp_path / "here", postgres_url), open_records(tmp_path / "there", postgres_url)
    queue = records.queue(30)
    with queue.bell() as bell:
        assert bell.wait(0.01) is False  # nothing queued yet
    woke: list[bool] = []
    waiting = threading.Thread(target=lambda: woke.append(worker_module._wait_for_work(queue, 60.0)))
    waiting.start()
    time.sleep(0.5)  # let it look at the (empty) queue and fall asleep
    elsewhere.queue(30).create("local:alice", "alice", "files", {}, "alice/demo")  # another folder: no doorbell
    waiting.join(timeout=30)
    records.close()
    elsewhere.close()
    assert woke == [True]
