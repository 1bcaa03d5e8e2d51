"""`CatalogRows` on PostgreSQL: a registry's records read out and written in for `registry migrate`.

JSON columns travel as text (the SQLite form) and are cast back to `jsonb` on the way in; every write is
idempotent by natural key, as `rows.SqliteRows`'s are, so a migration into PostgreSQL resumes the same way.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dlhub_manifest.registry.pg.records import PgRecords, PgTx
from dlhub_manifest.registry.rows import TASK_COLUMNS, VERSION_COLUMNS, ServableRows, add_versions

JSON_COLUMNS = ("request", "messages", "result")


class PgRows:
    """`CatalogRows` over the PostgreSQL records of a registry."""

    def __init__(self, records: PgRecords) -> None:
        self.records = records

    def describe(self) -> str:
        from dlhub_manifest.registry.pg.connect import redacted

        return redacted(self.records.url)

    def close(self) -> None:
        self.records.close()

    def servables(self) -> Iterator[ServableRows]:
        yield from self.records.read(lambda tx: list(_servables(_conn(tx))))

    def tasks(self) -> Iterator[dict[str, Any]]:
        columns = ", ".join(f"{c}::text AS {c}" if c in JSON_COLUMNS else c for c in TASK_COLUMNS)
        rows = self.records.read(lambda tx: _conn(tx).execute(
            f"SELECT {columns} FROM tasks ORDER BY created_at, id").fetchall())
        yield from (dict(r) for r in rows)

    def referenced_blobs(self) -> dict[str, int]:
        rows = self.records.read(lambda tx: _conn(tx).execute(
            "SELECT DISTINCT sha256, size FROM version_files").fetchall())
        return {r["sha256"]: r["size"] for r in rows}

    def add_servable(self, servable: ServableRows) -> int:
        return self.records.write(lambda tx: add_versions(tx, servable))

    def add_tasks(self, tasks: list[dict[str, Any]]) -> int:
        marks = ", ".join("%s::jsonb" if c in JSON_COLUMNS else "%s" for c in TASK_COLUMNS)
        sql = f"INSERT INTO tasks ({', '.join(TASK_COLUMNS)}) VALUES ({marks}) ON CONFLICT (id) DO NOTHING"

        def write(tx: Any) -> int:
            added = 0
            for t in tasks:
                added += _conn(tx).execute(sql, tuple(t[c] for c in TASK_COLUMNS)).rowcount
            return added

        return self.records.write(write)


def _conn(tx: Any) -> Any:
    assert isinstance(tx, PgTx)
    return tx.conn


def _servables(conn: Any) -> Iterator[ServableRows]:
    for s in conn.execute("SELECT * FROM servables ORDER BY owner, name").fetchall():
        versions = []
        for v in conn.execute("SELECT * FROM versions WHERE servable_id = %s ORDER BY created_at", (s["id"],)):
            files = conn.execute("SELECT path, sha256, size, mode FROM version_files WHERE version_id = %s "
                                 "ORDER BY path", (v["id"],)).fetchall()
            versions.append({**{c: v[c] for c in VERSION_COLUMNS}, "files": [dict(f) for f in files]})
        yield ServableRows(s["owner"], s["name"], s["uuid"], s["created_at"], versions)
