"""A registry's records as plain rows, for moving them to another registry: read them out, write them in.

Writing is idempotent by natural key (a servable by OWNER/NAME, a version by servable and version, a task by
id), so a move that was interrupted is resumed by running it again. A version that exists on both sides with
different content is an error, never overwritten. `CatalogRows` is what any catalog store must offer for
`registry migrate`; `SqliteRows` is the embedded one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from dlhub_manifest.errors import ConflictError
from dlhub_manifest.registry import store as q
from dlhub_manifest.registry.records import Tx
from dlhub_manifest.registry.store import Store

TASK_COLUMNS = ("id", "identity", "owner", "kind", "status", "request", "messages", "result", "servable", "attempts",
                "lease_owner", "lease_expires", "idempotency_key", "created_at", "updated_at")
VERSION_COLUMNS = ("version", "document", "content_digest", "provenance", "search_text", "created_at", "task_id")


@dataclass(frozen=True)
class ServableRows:
    """One servable with every version and each version's file index."""

    owner: str
    name: str
    uuid: str
    created_at: float
    versions: list[dict[str, Any]] = field(default_factory=list)  # VERSION_COLUMNS + "files"


class CatalogRows(Protocol):
    """Read every record out of a catalog, and write records in (idempotently)."""

    def describe(self) -> str:
        """Where the catalog is, for messages."""

    def servables(self) -> Iterator[ServableRows]:
        """Every servable with its versions, in OWNER/NAME order."""

    def tasks(self) -> Iterator[dict[str, Any]]:
        """Every task as TASK_COLUMNS."""

    def referenced_blobs(self) -> dict[str, int]:
        """sha256 → size of every blob a version references."""

    def add_servable(self, servable: ServableRows) -> int:
        """Write the servable and the versions it lacks (one transaction); returns how many were added."""

    def add_tasks(self, tasks: list[dict[str, Any]]) -> int:
        """Write the tasks it lacks; returns how many were added."""

    def close(self) -> None:
        """Close the database connection."""


class SqliteRows:
    """`CatalogRows` over the embedded SQLite store of a registry folder."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def describe(self) -> str:
        return str(self.store.path)

    def close(self) -> None:
        self.store.close()

    def servables(self) -> Iterator[ServableRows]:
        with self.store.snapshot() as conn:
            servables = conn.execute("SELECT * FROM servables ORDER BY owner, name").fetchall()
            for s in servables:
                yield ServableRows(s["owner"], s["name"], s["uuid"], s["created_at"], _versions(conn, s["id"]))

    def tasks(self) -> Iterator[dict[str, Any]]:
        with self.store.snapshot() as conn:
            for row in conn.execute(f"SELECT {', '.join(TASK_COLUMNS)} FROM tasks ORDER BY created_at, id"):
                yield dict(row)

    def referenced_blobs(self) -> dict[str, int]:
        with self.store.snapshot() as conn:
            return q.referenced_blobs(conn)

    def add_servable(self, servable: ServableRows) -> int:
        from dlhub_manifest.registry.sqlite_records import SqliteRecords

        return SqliteRecords(self.store.root, self.store).write(lambda tx: add_versions(tx, servable))

    def add_tasks(self, tasks: list[dict[str, Any]]) -> int:
        def write(conn: sqlite3.Connection) -> int:
            marks = ", ".join("?" * len(TASK_COLUMNS))
            cur = conn.executemany(f"INSERT OR IGNORE INTO tasks ({', '.join(TASK_COLUMNS)}) VALUES ({marks})",
                                   [tuple(t[c] for c in TASK_COLUMNS) for t in tasks])
            return max(cur.rowcount, 0)

        return self.store.write(write)


def _versions(conn: sqlite3.Connection, servable_id: int) -> list[dict[str, Any]]:
    out = []
    for row in q.version_rows(conn, servable_id):
        files = [dict(f) for f in q.file_rows(conn, row["id"])]
        out.append({**{c: row[c] for c in VERSION_COLUMNS}, "files": files})
    return sorted(out, key=lambda v: v["created_at"])


def add_versions(tx: Tx, servable: ServableRows) -> int:
    """Write the servable and the versions `tx`'s records lack (inside the caller's transaction); returns how many
    were added. Works on any `Records` transaction (SQLite or PostgreSQL)."""
    row = tx.ensure_servable(servable.owner, servable.name, servable.uuid, servable.created_at)
    held = {v["version"]: v for v in tx.version_rows(row["id"])}
    added = 0
    for version in servable.versions:
        mine = held.get(version["version"])
        if mine is None:
            fields = {c: version[c] for c in VERSION_COLUMNS}
            tx.insert_version({**fields, "servable_id": row["id"]}, version["files"])
            added += 1
        elif mine["content_digest"] != version["content_digest"]:
            raise ConflictError(f"{servable.owner}/{servable.name}@{version['version']} already exists in the "
                                "destination with other content; migrate into an empty registry")
    return added
