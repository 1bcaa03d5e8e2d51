"""The catalog: one row per servable with what `list` and `search` show, kept in the transaction that registers
a version, so reads are one indexed query instead of a scan of every version's document.

`catalog` holds the latest version's summary (as the JSON text the API serves, so a listing is not re-encoded),
`catalog_access` who besides the public and the owner may see it,
and `catalog_text` its lower-cased searchable text by field, indexed by FTS5 (trigram tokenizer, so a query word
matches anywhere inside a word, as `search` always did) when this SQLite has it.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dlhub_manifest.registry.document import search_fields, summary, visible_to
from dlhub_manifest.registry.sqlscript import run_script
from dlhub_manifest.util.versions import parse_version

FTS_TABLE = "catalog_fts"
TEXT_FIELDS = ("name", "title", "description", "creators", "keywords", "domains", "identifiers")

SCHEMA = """
CREATE TABLE catalog (
  servable_id INTEGER PRIMARY KEY REFERENCES servables(id),
  owner TEXT NOT NULL,
  name TEXT NOT NULL,
  version_id INTEGER NOT NULL REFERENCES versions(id),
  version TEXT NOT NULL,
  published_at REAL NOT NULL,
  public INTEGER NOT NULL,
  summary TEXT NOT NULL
);
CREATE UNIQUE INDEX catalog_owner_name ON catalog (owner, name);
CREATE TABLE catalog_access (
  servable_id INTEGER NOT NULL REFERENCES catalog(servable_id),
  principal TEXT NOT NULL,
  PRIMARY KEY (servable_id, principal)
) WITHOUT ROWID;
CREATE TABLE catalog_text (
  servable_id INTEGER PRIMARY KEY REFERENCES catalog(servable_id),
  text TEXT NOT NULL,
""" + ",\n".join(f"  {f} TEXT NOT NULL" for f in TEXT_FIELDS) + "\n);"

# An external-content index over catalog_text.text, kept in step by triggers (rows are deleted and inserted,
# never updated). case_sensitive 1: the text is lower-cased by Python already, exactly like the query words.
FTS_SCHEMA = f"""
CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(text, content='catalog_text', content_rowid='servable_id',
  tokenize='trigram case_sensitive 1');
CREATE TRIGGER catalog_text_ai AFTER INSERT ON catalog_text BEGIN
  INSERT INTO {FTS_TABLE} (rowid, text) VALUES (new.servable_id, new.text);
END;
CREATE TRIGGER catalog_text_ad AFTER DELETE ON catalog_text BEGIN
  INSERT INTO {FTS_TABLE} ({FTS_TABLE}, rowid, text) VALUES ('delete', old.servable_id, old.text);
END;
"""


def migrate(conn: sqlite3.Connection) -> None:
    """Schema 2: create the catalog (with the FTS index when SQLite supports it) and fill it from the versions."""
    run_script(conn, SCHEMA)
    conn.execute("SAVEPOINT fts")
    try:
        run_script(conn, FTS_SCHEMA)
    except sqlite3.OperationalError:  # no FTS5 or no trigram tokenizer (SQLite < 3.34): search scans instead
        conn.execute("ROLLBACK TO fts")
    conn.execute("RELEASE fts")
    for (servable_id,) in conn.execute("SELECT id FROM servables").fetchall():
        refresh(conn, servable_id)


def has_fts(conn: sqlite3.Connection) -> bool:
    """Whether this registry was given the full-text index (decided once, when the catalog was created)."""
    found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (FTS_TABLE,)).fetchone()
    return found is not None


def refresh(conn: sqlite3.Connection, servable_id: int) -> None:
    """Rewrite the catalog rows of one servable from its versions (call inside the registering transaction)."""
    for table in ("catalog_access", "catalog_text", "catalog"):
        conn.execute(f"DELETE FROM {table} WHERE servable_id = ?", (servable_id,))
    rows = conn.execute("SELECT v.id, v.version, v.document, v.created_at, s.owner, s.name FROM versions v "
                        "JOIN servables s ON s.id = v.servable_id WHERE v.servable_id = ? ORDER BY v.id",
                        (servable_id,)).fetchall()
    if rows:
        _insert(conn, servable_id, rows)


@dataclass(frozen=True)
class Entry:
    """One servable's catalog rows, computed from its versions the same way for every database."""

    servable_id: int
    owner: str
    name: str
    version_id: int
    version: str
    published_at: float
    public: bool
    summary: str
    principals: tuple[str, ...]
    fields: dict[str, str]

    @property
    def text(self) -> str:
        """Every searchable field, one after the other (what a query word must occur in)."""
        return "\n".join(v for v in self.fields.values() if v)


def entry(servable_id: int, rows: Sequence[Sequence[Any]]) -> Entry:
    """The catalog entry of a servable from its versions' (id, version, document JSON, created_at, owner, name)."""
    latest = max(rows, key=lambda r: parse_version(r[1]))  # the first of equal precedence, as `show` picks
    version_id, version, text, created_at, owner, name = tuple(latest)
    document = json.loads(text)
    principals = visible_to(document)
    shown = {"servable": f"{owner}/{name}", "owner": owner, "name": name, "version": version, "latest": version,
             "versions": sorted((r[1] for r in rows), key=parse_version), "published_at": created_at,
             **summary(document)}
    fields = {k: "\n".join(v).lower() for k, v in search_fields(document, owner).items()}
    return Entry(servable_id, owner, name, version_id, version, created_at, "public" in principals,
                 json.dumps(shown, separators=(",", ":"), ensure_ascii=False),
                 tuple(dict.fromkeys(p for p in principals if p != "public")), fields)


def _insert(conn: sqlite3.Connection, servable_id: int, rows: list[sqlite3.Row]) -> None:
    e = entry(servable_id, rows)
    conn.execute("INSERT INTO catalog VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
        servable_id, e.owner, e.name, e.version_id, e.version, e.published_at, e.public, e.summary))
    conn.executemany("INSERT OR IGNORE INTO catalog_access VALUES (?, ?)", [(servable_id, p) for p in e.principals])
    conn.execute(f"INSERT INTO catalog_text (servable_id, text, {', '.join(TEXT_FIELDS)}) VALUES "
                 f"(?, ?, {', '.join('?' * len(TEXT_FIELDS))})",
                 (servable_id, e.text, *(e.fields[k] for k in TEXT_FIELDS)))
