"""The registry's records (servables, versions, file indexes, catalog, tasks) behind one interface, so the
service, the worker and `registry check` run the same code on the embedded SQLite database or on PostgreSQL.

Each database keeps its own hand-written SQL (`sqlite_records`, `pg/`): the SQLite path is tuned (WAL, one
`BEGIN IMMEDIATE` writer, FTS5 trigram index) and the PostgreSQL one uses what only it has (`FOR UPDATE SKIP
LOCKED`, `pg_trgm`, `ON CONFLICT`). What is decided once, for both, lives above this line: version choice,
immutability and the catalog entry (`register.py`, `catalog.entry`), search words and ranking (`browse`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, TypeVar

from dlhub_manifest.errors import UsageError
from dlhub_manifest.registry.browse import Filters, Found, Listing, Viewer
from dlhub_manifest.registry.contracts import PublicationRequest, TaskResult, TaskStatus
from dlhub_manifest.registry.tasks import Task

T = TypeVar("T")
Row = Any  # a database row read by column name (sqlite3.Row or a dict)
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class Tx(Protocol):
    """The record operations available inside one transaction (a write, or a consistent read)."""

    def servable_row(self, owner: str, name: str) -> Row | None: ...
    def ensure_servable(self, owner: str, name: str, uuid: str, now: float) -> Row: ...
    def version_rows(self, servable_id: int) -> Sequence[Row]: ...
    def file_rows(self, version_id: int) -> Sequence[Row]: ...
    def blob_holders(self, sha256: str) -> Sequence[Row]: ...
    def insert_version(self, row: dict[str, Any], files: Iterable[Mapping[str, Any]]) -> int: ...
    def finish(self, task_id: str, worker: str, status: TaskStatus, text: str,
               result: TaskResult | None = None) -> None: ...
    def owner_usage(self, owner: str) -> dict[str, int]: ...
    def list_page(self, viewer: Viewer, limit: int | None, after: tuple[str, str] | None) -> Listing: ...
    def search(self, viewer: Viewer, text: str, limit: int | None) -> Listing: ...
    def find(self, viewer: Viewer, text: str, filters: Filters, limit: int, offset: int) -> Found: ...
    def all_versions(self) -> Iterable[Row]: ...
    def integrity_problems(self) -> list[str]: ...
    def lost_versions(self) -> list[str]: ...
    def running_tasks(self) -> int: ...


class Bell(Protocol):
    """What an idle worker sleeps on until a task is queued (a context manager)."""

    def __enter__(self) -> Bell: ...
    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...
    def wait(self, timeout: float) -> bool: ...


class CatalogQueries(Protocol):
    """A database's list and search SQL (the `browse` module of SQLite or of PostgreSQL)."""

    def list_page(self, conn: Any, viewer: Viewer, limit: int | None, after: tuple[str, str] | None) -> Listing: ...
    def search(self, conn: Any, viewer: Viewer, text: str, limit: int | None) -> Listing: ...
    def find(self, conn: Any, viewer: Viewer, text: str, filters: Filters, limit: int, offset: int) -> Found: ...


class TxBase:
    """What every database's `Tx` does the same way: close a task through its queue, list and search through
    its catalog queries, on the transaction's connection."""

    catalog: CatalogQueries

    def __init__(self, conn: Any, queue: Any) -> None:
        self.conn = conn
        self._queue = queue

    def finish(self, task_id: str, worker: str, status: TaskStatus, text: str,
               result: TaskResult | None = None) -> None:
        self._queue.finish(self.conn, task_id, worker, status, text, result)

    def list_page(self, viewer: Viewer, limit: int | None, after: tuple[str, str] | None) -> Listing:
        return self.catalog.list_page(self.conn, viewer, limit, after)

    def search(self, viewer: Viewer, text: str, limit: int | None) -> Listing:
        return self.catalog.search(self.conn, viewer, text, limit)

    def find(self, viewer: Viewer, text: str, filters: Filters, limit: int, offset: int) -> Found:
        return self.catalog.find(self.conn, viewer, text, filters, limit, offset)


class Queue(Protocol):
    """The task queue: publications waiting for, held by, or finished by a worker."""

    lease_seconds: float

    @property
    def root(self) -> Path: ...
    def bell(self) -> Bell: ...
    def create(self, identity: str, owner: str, kind: str, request: PublicationRequest, servable: str,
               idempotency_key: str | None = None) -> str: ...
    def get(self, task_id: str) -> Task | None: ...
    def pending(self) -> int: ...
    def claim(self, worker: str, owner_limit: int | None = None) -> Task | None: ...
    def heartbeat(self, task_id: str, worker: str) -> bool: ...
    def note(self, task_id: str, text: str, level: str = "info") -> None: ...
    def fail(self, task_id: str, worker: str, text: str) -> None: ...
    def reap(self) -> int: ...


class Records(Protocol):
    """One registry's records; open one per thread (connections are not shared between threads)."""

    #: Several workers may run on these records at once (PostgreSQL); SQLite allows one per registry folder.
    shared: bool

    def exists(self) -> bool: ...
    def verify(self) -> None:
        """Connect now and check the schema, so a server or worker refuses to start rather than fail later."""
    def queue(self, lease_seconds: float) -> Queue: ...
    def write(self, fn: Callable[[Tx], T]) -> T: ...
    def read(self, fn: Callable[[Tx], T]) -> T: ...
    def close(self) -> None: ...


def is_postgres(database: str | None) -> bool:
    """Whether `database` names a PostgreSQL database (else the registry folder's SQLite file is used)."""
    return database is not None and database.startswith(POSTGRES_SCHEMES)


def open_records(root: Path, database: str | None = None) -> Records:
    """The records of the registry at `root`: in `database` (a `postgresql://` URL) when given, else in the
    folder's SQLite file."""
    if database is None:
        from dlhub_manifest.registry.sqlite_records import SqliteRecords

        return SqliteRecords(root)
    if not is_postgres(database):
        raise UsageError(f"--database must be a postgresql://USER@HOST:PORT/DB URL (got {database.split('://')[0]}"
                         "://...); leave it out to keep the registry in the folder's SQLite file")
    from dlhub_manifest.registry.pg.records import PgRecords

    return PgRecords(root, database)


def upgrade(root: Path, database: str | None = None) -> tuple[int, int]:
    """Bring the records' schema to the version this dlhub-manifest knows; returns (before, after).

    PostgreSQL is only ever migrated here (servers refuse a schema they do not know); the embedded SQLite file
    also migrates itself when opened, so upgrading it ahead of time is optional.
    """
    if database is not None:
        if not is_postgres(database):
            open_records(root, database)  # raises the usage error
        from dlhub_manifest.registry.pg.migrate import upgrade as upgrade_postgres

        return upgrade_postgres(database)
    from dlhub_manifest.registry.store import MIGRATIONS, Store, schema_version

    store = Store(root)
    try:
        before = schema_version(store.path)
        _ = store.conn  # opening migrates
    finally:
        store.close()
    return before, len(MIGRATIONS)


def verify_records(root: Path, database: str | None) -> None:
    """Check now that the records can be opened and have the schema this dlhub-manifest knows (raises with
    what to do when not): servers and workers call it before they start."""
    records = open_records(root, database)
    try:
        records.verify()
    finally:
        records.close()
