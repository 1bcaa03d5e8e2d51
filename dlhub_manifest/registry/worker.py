"""The task worker: `python -m dlhub_manifest.registry.worker --registry PATH` drains queued tasks.

On the embedded SQLite registry each worker holds one slot lock (`worker.lock`, `worker-1.lock`, ...): the local
registry runs one, `serve --workers N` runs N. On PostgreSQL (`--database`) any number of workers, on any
machines, share the queue without locks: each claim takes one task no other worker holds. A worker lingers a
moment after the queue empties so a burst of publishes reuses it, a heartbeat thread keeps its task's lease
alive (a dead worker's task is taken over once its lease runs out), and with `--owner-limit` it leaves an
owner's tasks queued while that owner already has that many running, so one user's stuck fetches never hold
every worker.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import logging
import os
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from dlhub_manifest.registry.blobstore import BlobStoreConfig, open_blob_store
from dlhub_manifest.registry.execute import Context, execute
from dlhub_manifest.registry.lifeline import die_with_parent, orphaned
from dlhub_manifest.registry.records import Queue, open_records
from dlhub_manifest.registry.service import RegistryService
from dlhub_manifest.registry.tasks import LEASE_SECONDS, LeaseLost, Task, new_worker_id
from dlhub_manifest.util.logsafe import RedactingFilter

LOCK_NAME = "worker.lock"
LOG_NAME = "logs/worker.log"
IDLE_SECONDS = 5.0
DATABASE_ENV = "_DLHUB_MANIFEST_WORKER_DATABASE"  # how serve hands its worker the database URL (not argv)
FOREVER = 10.0**9  # idle seconds of a worker that waits for work for ever (beside a server, or `worker`)
POLL_SECONDS = 0.02  # how often a worker that follows its parent checks that the parent is alive
QUERY_SECONDS = 1.0  # database checks while idle (a missed doorbell costs at most this)
STARTUP_SECONDS = 2.0  # a new worker takes the lock well within this
log = logging.getLogger("dlhub_manifest.worker")
_spawned: dict[int, tuple[Path, float]] = {}  # pid → (registry, start time) of workers we started


def lock_name(slot: int) -> str:
    return LOCK_NAME if slot == 0 else f"worker-{slot}.lock"


def try_lock(root: Path, slot: int = 0) -> IO[bytes] | None:
    """The worker lock of `slot`, held while the returned file stays open; None when another worker holds it."""
    root.mkdir(parents=True, exist_ok=True)
    fh = open(root / lock_name(slot), "ab")  # noqa: SIM115 - the open file *is* the lock; callers close it
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    return fh


def worker_alive(root: Path) -> bool:
    """Whether some worker holds this registry's lock right now."""
    lock = try_lock(root)
    if lock is None:
        return True
    lock.close()
    return False


@dataclass(frozen=True)
class Limits:
    """What one worker enforces: its slot, how many tasks one owner may have running, each task's time."""

    slot: int = 0
    owner_limit: int | None = None
    deadline: float | None = None  # seconds a task may run


def run_worker(root: Path, *, idle: float = IDLE_SECONDS, lease_seconds: float = LEASE_SECONDS,
               parent: int | None = None, limits: Limits | None = None, database: str | None = None,
               blobs: BlobStoreConfig | None = None) -> int:
    """Run queued tasks until the queue stays empty for `idle` seconds (or `parent`, when given, is gone);
    returns how many tasks ran. `database`: the PostgreSQL records shared with other workers; `blobs`: the
    registry's blob store (default: its folder)."""
    limits = limits or Limits()
    service = RegistryService(root, database=database, blobs=open_blob_store(root, blobs),
                              lease_seconds=lease_seconds)
    try:
        if service.records.shared:
            return _run_shared(service, idle, parent, limits)
        return _run_alone(service, idle, parent, limits)
    finally:
        service.close()


def _run_shared(service: RegistryService, idle: float, parent: int | None, limits: Limits) -> int:
    """One of many workers on shared records: no lock; a scratch folder of its own, removed when it leaves."""
    worker = new_worker_id()
    work = "work/" + worker.replace(":", "-")
    _preload()
    ran = 0
    try:
        while True:
            drained = _drain(service, worker, parent, limits, work)
            ran += drained
            if not drained and service.queue.pending():
                time.sleep(QUERY_SECONDS / 4)  # queued tasks we may not take yet (owner limit): look again shortly
            if not _wait_for_work(service.queue, idle, parent):
                return ran
    finally:
        shutil.rmtree(service.root / work, ignore_errors=True)


def _run_alone(service: RegistryService, idle: float, parent: int | None, limits: Limits) -> int:
    """A worker of the registry folder's SQLite records, holding its slot's lock while it runs."""
    root = service.root
    lock = try_lock(root, limits.slot)
    if lock is None:
        return 0  # another worker is draining the queue
    worker = new_worker_id()
    _clean_leftovers(service, limits.slot)
    _preload()
    ran = 0
    while lock is not None:
        drained = _drain(service, worker, parent, limits, _work(limits.slot))
        ran += drained
        if not drained and service.queue.pending():
            time.sleep(QUERY_SECONDS / 4)  # queued tasks we may not take yet (owner limit): look again shortly
        if _wait_for_work(service.queue, idle, parent):
            continue
        lock.close()
        # A client that saw the lock held relies on us to notice the task it queued just before we let go.
        lock = try_lock(root, limits.slot) if service.queue.pending() and not orphaned(parent) else None
    return ran


def _context(service: RegistryService, limits: Limits, work: str) -> Context:
    deadline = None if limits.deadline is None else time.monotonic() + limits.deadline
    return replace(service.context(), work=work, deadline=deadline)


def _work(slot: int) -> str:
    return f"work/{slot}"


def _drain(service: RegistryService, worker: str, parent: int | None, limits: Limits, work: str) -> int:
    ran = 0
    while not orphaned(parent) and (task := service.queue.claim(worker, limits.owner_limit)) is not None:
        ran += 1
        log.info("task %s: running (attempt %d)", task.id, task.attempts)
        with _heartbeat(service, task, worker):
            try:
                execute(_context(service, limits, work), task, worker)
            except LeaseLost as e:
                log.warning("task %s: %s", task.id, e)
            except Exception as e:  # noqa: BLE001 - a bug must fail the task with a message, not kill the worker
                log.exception("task %s: internal error", task.id)
                _fail_quietly(service.queue, task, worker, f"internal error while publishing: {type(e).__name__}: "
                              f"{e}. Please report it with the worker log ({service.root / LOG_NAME})")
    return ran


def _fail_quietly(queue: Queue, task: Task, worker: str, text: str) -> None:
    with contextlib.suppress(LeaseLost):
        queue.fail(task.id, worker, text)


def _wait_for_work(queue: Queue, idle: float, parent: int | None = None) -> bool:
    """Wait up to `idle` seconds for a queued task: asleep on the doorbell, asking the database when it rings
    and every QUERY_SECONDS anyway (a lost ring costs at most that).

    False at once when the followed parent is gone (checked every POLL_SECONDS: the fallback to PDEATHSIG)."""
    deadline = time.monotonic() + idle
    nap = QUERY_SECONDS if parent is None else POLL_SECONDS
    with queue.bell() as bell:  # listening before the first look: no ring falls in between
        rang, next_query = True, 0.0
        while (left := deadline - time.monotonic()) > 0 and not orphaned(parent):
            if rang or time.monotonic() >= next_query:
                if queue.pending():
                    return True
                next_query = time.monotonic() + QUERY_SECONDS
            rang = bell.wait(min(left, nap))
    return False


@contextlib.contextmanager
def _heartbeat(service: RegistryService, task: Task, worker: str) -> Iterator[None]:
    """Extend the task's lease every third of its length from a thread with its own connection."""
    stop = threading.Event()
    lease_seconds = service.lease_seconds

    def beat() -> None:
        records = open_records(service.root, service.database)
        try:
            while not stop.wait(lease_seconds / 3):
                records.queue(lease_seconds).heartbeat(task.id, worker)
        finally:
            records.close()

    thread = threading.Thread(target=beat, name=f"heartbeat-{task.id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _preload() -> None:
    """Load and compile the document checker now: a worker started early is then ready when the task comes."""
    from dlhub_manifest.build.check import prepare

    prepare()


def _clean_leftovers(service: RegistryService, slot: int) -> None:
    """Interrupted uploads (an hour old) and the checkouts a dead worker of our slot left (we hold its lock)."""
    service.blobs.clean_tmp()
    shutil.rmtree(service.root / _work(slot), ignore_errors=True)


def spawn_worker(root: Path, idle: float = IDLE_SECONDS) -> int | None:
    """Start a detached worker for `root` unless one is running; returns its pid (None when not needed).

    `idle`: how long it waits for work before leaving (longer for one started ahead of a submission).
    """
    _reap_spawned()
    starting = any(r == root and time.monotonic() - t < STARTUP_SECONDS for r, t in _spawned.values())
    if starting or worker_alive(root):
        return None  # ours has not taken the lock yet, or a worker holds it and will see the new task
    (root / LOG_NAME).parent.mkdir(parents=True, exist_ok=True)
    package_parent = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, str(root / LOG_NAME), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600),
               (os.POSIX_SPAWN_DUP2, 1, 2)]
    argv = [sys.executable, "-m", "dlhub_manifest.registry.worker", "--registry", str(root), "--idle", str(idle)]
    # posix_spawn rather than subprocess: no Popen object to warn about a child that outlives us.
    pid = os.posix_spawn(sys.executable, argv, env, file_actions=actions, setsid=True)
    _spawned[pid] = (root, time.monotonic())
    return pid


def _reap_spawned() -> None:
    """Collect workers we started that have exited, so they do not linger as zombies."""
    for pid in list(_spawned):
        with contextlib.suppress(ChildProcessError):
            if os.waitpid(pid, os.WNOHANG)[0] == 0:
                continue
        del _spawned[pid]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the detached worker process."""
    parser = argparse.ArgumentParser(prog="python -m dlhub_manifest.registry.worker", description=__doc__)
    parser.add_argument("--registry", required=True, type=Path, help="registry folder")
    parser.add_argument("--idle", type=float, default=IDLE_SECONDS, help="seconds to wait for more work")
    parser.add_argument("--lease", type=float, default=LEASE_SECONDS, help="task lease length in seconds")
    parser.add_argument("--slot", type=int, default=0, help="worker slot (serve --workers N runs slots 0..N-1)")
    parser.add_argument("--owner-limit", type=int, help="most tasks of one owner running at once")
    parser.add_argument("--deadline", type=float, help="seconds a task may run before it fails")
    parser.add_argument("--database", default=os.environ.get(DATABASE_ENV),
                        help=f"postgresql://USER@HOST:PORT/DB holding the records (default: ${DATABASE_ENV}, else "
                        "the registry folder's SQLite file)")
    parser.add_argument("--blob-store", help="s3://BUCKET/PREFIX when the blobs are not in the registry folder")
    parser.add_argument("--s3-endpoint-url", help="the S3 endpoint (default: $AWS_ENDPOINT_URL, else AWS)")
    parser.add_argument("--multipart-threshold", type=int, help="bytes from which uploads go in parts")
    parser.add_argument("--parent", type=int, help="pid of the process that started this worker: exit when it "
                        "is gone (serve's worker; the local registry's detached worker has none)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker[%(process)d] %(levelname)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    if args.parent is not None:
        die_with_parent()
    limits = Limits(args.slot, args.owner_limit, args.deadline)
    blobs = BlobStoreConfig(args.blob_store, args.s3_endpoint_url, args.multipart_threshold)
    ran = run_worker(args.registry.absolute(), idle=args.idle, lease_seconds=args.lease, parent=args.parent,
                     limits=limits, database=args.database, blobs=blobs)
    if orphaned(args.parent):
        log.info("the process that started this worker (pid %d) is gone", args.parent)
    log.info("exiting after %d task(s)", ran)
    return 0


if __name__ == "__main__":
    sys.exit(main())
