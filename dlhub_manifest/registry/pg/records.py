"""The `Records` interface on PostgreSQL: the catalog, versions and tasks shared by several servers.

Every write runs in one transaction. A version is registered exactly once: the unique constraint on
(servable, version) rejects a concurrent duplicate insert, and the losing transaction is rolled back and run
again, when it sees the winner's version (already published, or the next version). Connections are opened
per thread and checked against the schema version this dlhub-manifest knows.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from dlhub_manifest.errors import RegistryError
from dlhub_manifest.registry import catalog
from dlhub_manifest.registry.contracts import TaskStatus
from dlhub_manifest.registry.pg import browse
from dlhub_manifest.registry.pg.connect import connect, redacted
from dlhub_manifest.registry.pg.migrate import require_current
from dlhub_manifest.registry.pg.tasks import PgTaskQueue
from dlhub_manifest.registry.records import Tx, TxBase

if TYPE_CHECKING:
    import psycopg

T = TypeVar("T")
RETRIES = 8  # a transaction that lost a race (unique violation, serialization failure, deadlock) runs again


class PgTx(TxBase):
    """Record operations on one PostgreSQL connection, inside the caller's transaction."""

    catalog = browse

    def __init__(self, conn: psycopg.Connection[Any], queue: PgTaskQueue) -> None:
        super().__init__(conn, queue)
        self.conn: psycopg.Connection[Any] = conn

    def servable_row(self, owner: str, name: str) -> dict[str, Any] | None:
        row: dict[str, Any] | None = self.conn.execute(
            "SELECT * FROM servables WHERE owner = %s AND name = %s", (owner, name)).fetchone()
        return row

    def ensure_servable(self, owner: str, name: str, uuid: str, now: float) -> dict[str, Any]:
        self.conn.execute("INSERT INTO servables (owner, name, uuid, created_at) VALUES (%s, %s, %s, %s) "
                          "ON CONFLICT (owner, name) DO NOTHING", (owner, name, uuid, now))
        row = self.servable_row(owner, name)
        assert row is not None  # inserted just above, or by a transaction that committed before our insert
        return row

    def version_rows(self, servable_id: int) -> list[dict[str, Any]]:
        return self.conn.execute("SELECT * FROM versions WHERE servable_id = %s", (servable_id,)).fetchall()

    def file_rows(self, version_id: int) -> list[dict[str, Any]]:
        return self.conn.execute("SELECT path, sha256, size, mode FROM version_files WHERE version_id = %s "
                                 "ORDER BY path", (version_id,)).fetchall()

    def blob_holders(self, sha256: str) -> list[dict[str, Any]]:
        """(owner, document) of every version whose files include blob `sha256`."""
        return self.conn.execute("SELECT s.owner, v.document FROM version_files f JOIN versions v ON "
                                 "v.id = f.version_id JOIN servables s ON s.id = v.servable_id WHERE f.sha256 = %s",
                                 (sha256,)).fetchall()

    def insert_version(self, row: dict[str, Any], files: Iterable[Mapping[str, Any]]) -> int:
        found = self.conn.execute(
            "INSERT INTO versions (servable_id, version, document, content_digest, provenance, search_text, "
            "created_at, task_id) VALUES (%(servable_id)s, %(version)s, %(document)s, %(content_digest)s, "
            "%(provenance)s, %(search_text)s, %(created_at)s, %(task_id)s) RETURNING id", row).fetchone()
        assert found is not None
        version_id = int(found["id"])
        with self.conn.cursor() as cur:
            cur.executemany("INSERT INTO version_files (version_id, path, sha256, size, mode) "
                            "VALUES (%s, %s, %s, %s, %s)",
                            [(version_id, f["path"], f["sha256"], f["size"], f["mode"]) for f in files])
        self.refresh_catalog(int(row["servable_id"]))
        return version_id

    def refresh_catalog(self, servable_id: int) -> None:
        """Rewrite one servable's catalog rows from its versions (inside the registering transaction)."""
        self.conn.execute("DELETE FROM catalog WHERE servable_id = %s", (servable_id,))  # cascades to its access
        rows = self.conn.execute(
            "SELECT v.id, v.version, v.document, v.created_at, s.owner, s.name FROM versions v JOIN servables s "
            "ON s.id = v.servable_id WHERE v.servable_id = %s ORDER BY v.id", (servable_id,)).fetchall()
        if rows:
            write_entry(self.conn, catalog.entry(servable_id, [tuple(r.values()) for r in rows]))

    def owner_usage(self, owner: str) -> dict[str, int]:
        rows = self.conn.execute(
            "SELECT DISTINCT f.sha256, f.size FROM version_files f JOIN versions v ON v.id = f.version_id "
            "JOIN servables s ON s.id = v.servable_id WHERE s.owner = %s", (owner,)).fetchall()
        return {str(r["sha256"]): int(r["size"]) for r in rows}

    def all_versions(self) -> Iterable[dict[str, Any]]:
        return self.conn.execute("SELECT v.*, s.owner, s.name FROM versions v JOIN servables s "
                                 "ON s.id = v.servable_id ORDER BY v.id").fetchall()

    def integrity_problems(self) -> list[str]:
        """Foreign keys and unique constraints are enforced by PostgreSQL; what remains is the catalog."""
        rows = self.conn.execute(
            "SELECT s.owner || '/' || s.name AS ref FROM servables s WHERE EXISTS (SELECT 1 FROM versions v WHERE "
            "v.servable_id = s.id) AND NOT EXISTS (SELECT 1 FROM catalog c WHERE c.servable_id = s.id)").fetchall()
        return [f"database: servable {r['ref']} has versions but no catalog entry" for r in rows]

    def lost_versions(self) -> list[str]:
        return [r["id"] for r in self.conn.execute(
            "SELECT t.id FROM tasks t WHERE t.status = %s AND (t.result ->> 'already_published')::boolean = false "
            "AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.task_id = t.id)",
            (TaskStatus.SUCCEEDED.value,)).fetchall()]

    def running_tasks(self) -> int:
        row = self.conn.execute("SELECT COUNT(*) AS n FROM tasks WHERE status = %s",
                                (TaskStatus.RUNNING.value,)).fetchone()
        return int(row["n"]) if row else 0


def write_entry(conn: psycopg.Connection[Any], e: catalog.Entry) -> None:
    """Insert one catalog entry (its summary and searchable text in one row, and who may see it)."""
    fields = ", ".join(f"text_{f}" for f in catalog.TEXT_FIELDS)
    conn.execute(f"INSERT INTO catalog (servable_id, owner, name, version_id, version, published_at, public, summary, "
                 f"text, {fields}) VALUES ({', '.join(['%s'] * (9 + len(catalog.TEXT_FIELDS)))})",
                 catalog_row(e))
    if e.principals:
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO catalog_access VALUES (%s, %s)", [(e.servable_id, p) for p in e.principals])


def catalog_row(e: catalog.Entry) -> tuple[Any, ...]:
    """The `catalog` columns of an entry, in table order."""
    return (e.servable_id, e.owner, e.name, e.version_id, e.version, e.published_at, e.public, e.summary, e.text,
            *(e.fields[k] for k in catalog.TEXT_FIELDS))


class PgRecords:
    """A registry's records in a PostgreSQL database; any number of processes share them."""

    shared = True

    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url
        self._conn: psycopg.Connection[Any] | None = None

    @property
    def conn(self) -> psycopg.Connection[Any]:
        """The open connection (reopened after a lost one), checked for the schema version on opening."""
        if self._conn is None or self._conn.closed:
            conn = connect(self.url)
            try:
                require_current(conn, self.url)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
        return self._conn

    def exists(self) -> bool:
        return True  # the database is set up by `registry upgrade`; opening it checks that

    def verify(self) -> None:
        _ = self.conn

    def queue(self, lease_seconds: float) -> PgTaskQueue:
        return PgTaskQueue(self, lease_seconds)

    def transact(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        """Run `fn` in one transaction, run again (a few times) when it lost a race with another transaction."""
        import psycopg
        from psycopg import errors

        for attempt in range(RETRIES):
            try:
                conn = self.conn
                with conn.transaction():
                    return fn(conn)
            except (errors.UniqueViolation, errors.SerializationFailure, errors.DeadlockDetected) as e:
                if attempt == RETRIES - 1:
                    raise RegistryError(f"registry database: {e}; the write kept colliding with others, "
                                        "try again") from e
                time.sleep(0.005 * (1 << attempt) * (0.5 + random.random()))
            except psycopg.OperationalError as e:
                self.close()
                raise RegistryError(f"lost the registry database {redacted(self.url)}: "
                                    f"{str(e).strip() or type(e).__name__}; try again") from e
        raise AssertionError("unreachable")

    def write(self, fn: Callable[[Tx], T]) -> T:
        queue = self.queue(0)
        return self.transact(lambda conn: fn(PgTx(conn, queue)))

    def read(self, fn: Callable[[Tx], T]) -> T:
        """Run `fn` on one snapshot: every query inside sees the same committed state."""
        queue = self.queue(0)

        def snapshot(conn: psycopg.Connection[Any]) -> T:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return fn(PgTx(conn, queue))

        return self.transact(snapshot)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
