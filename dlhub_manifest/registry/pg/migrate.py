"""Versioned schema migrations for the PostgreSQL records, run by `dlhub-manifest registry upgrade`.

`dlhub_schema` holds the version. Migration N (`MIGRATIONS[N-1]`) brings the schema from N-1 to N in one
transaction, under an advisory lock so two upgrades never interleave. A server or worker never migrates: it
refuses to start on any schema but `CURRENT`, so a fleet of replicas is upgraded once, on purpose.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dlhub_manifest.errors import RegistryError
from dlhub_manifest.registry.catalog import TEXT_FIELDS
from dlhub_manifest.registry.pg.connect import connect, redacted

if TYPE_CHECKING:
    import psycopg

LOCK_KEY = 0x646C687562  # "dlhub": the advisory lock held while migrating

# Names sort byte-wise ("C" collation), as SQLite does, so both backends list and page in the same order.
_V1 = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE FUNCTION dlhub_now() RETURNS double precision LANGUAGE sql VOLATILE
  AS $$ SELECT extract(epoch FROM clock_timestamp())::double precision $$;
CREATE TABLE servables (
  id bigserial PRIMARY KEY,
  owner text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  uuid text NOT NULL UNIQUE,
  created_at double precision NOT NULL,
  UNIQUE (owner, name)
);
CREATE TABLE versions (
  id bigserial PRIMARY KEY,
  servable_id bigint NOT NULL REFERENCES servables(id),
  version text NOT NULL,
  document text NOT NULL,
  content_digest text NOT NULL,
  provenance text NOT NULL,
  search_text text NOT NULL,
  created_at double precision NOT NULL,
  task_id text NOT NULL,
  UNIQUE (servable_id, version)
);
CREATE INDEX versions_task ON versions (task_id);
CREATE TABLE version_files (
  version_id bigint NOT NULL REFERENCES versions(id),
  path text COLLATE "C" NOT NULL,
  sha256 text NOT NULL,
  size bigint NOT NULL,
  mode integer NOT NULL,
  PRIMARY KEY (version_id, path)
);
CREATE INDEX version_files_sha256 ON version_files (sha256);
CREATE TABLE tasks (
  id text PRIMARY KEY,
  identity text NOT NULL,
  owner text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('files', 'repository')),
  status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  request jsonb NOT NULL,
  messages jsonb NOT NULL DEFAULT '[]',
  result jsonb,
  servable text,
  attempts integer NOT NULL DEFAULT 0,
  lease_owner text,
  lease_expires double precision,
  idempotency_key text,
  created_at double precision NOT NULL,
  updated_at double precision NOT NULL
);
CREATE INDEX tasks_queued ON tasks (created_at) WHERE status = 'queued';
CREATE INDEX tasks_running ON tasks (lease_expires) WHERE status = 'running';
CREATE UNIQUE INDEX tasks_idempotency ON tasks (identity, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE TABLE catalog (
  servable_id bigint PRIMARY KEY REFERENCES servables(id),
  owner text COLLATE "C" NOT NULL,
  name text COLLATE "C" NOT NULL,
  version_id bigint NOT NULL REFERENCES versions(id),
  version text NOT NULL,
  published_at double precision NOT NULL,
  public boolean NOT NULL,
  summary text NOT NULL,
  text text NOT NULL,
""" + ",\n".join(f"  text_{f} text NOT NULL" for f in TEXT_FIELDS) + """
);
CREATE UNIQUE INDEX catalog_owner_name ON catalog (owner, name);
CREATE INDEX catalog_text_trgm ON catalog USING gin (text gin_trgm_ops);
CREATE INDEX catalog_title_trgm ON catalog USING gin (text_title gin_trgm_ops);
CREATE TABLE catalog_access (
  servable_id bigint NOT NULL REFERENCES catalog(servable_id) ON DELETE CASCADE,
  principal text NOT NULL,
  PRIMARY KEY (servable_id, principal)
);
"""

# Append-only: never edit a released migration, add the next one.
MIGRATIONS: tuple[str, ...] = (_V1,)
CURRENT = len(MIGRATIONS)


def schema_version(conn: psycopg.Connection[Any]) -> int | None:
    """The database's schema version; None when dlhub-manifest never set it up."""
    row = conn.execute("SELECT to_regclass('dlhub_schema') IS NOT NULL AS present").fetchone()
    if not row or not _first(row):
        return None
    found = conn.execute("SELECT version FROM dlhub_schema").fetchone()
    return int(_first(found)) if found else 0


def require_current(conn: psycopg.Connection[Any], url: str) -> None:
    """Refuse a database whose schema is not the one this dlhub-manifest knows, saying what to run."""
    version = schema_version(conn)
    where = redacted(url)
    if version == CURRENT:
        return
    if version is None or version < CURRENT:
        state = "has no registry schema yet" if version is None else f"has registry schema {version}"
        raise RegistryError(f"the database {where} {state}; this dlhub-manifest needs schema {CURRENT}: run "
                            f"`dlhub-manifest registry upgrade --database {where}` once, then start again")
    raise RegistryError(f"the database {where} has registry schema {version}, newer than this dlhub-manifest "
                        f"knows ({CURRENT}); install the dlhub-manifest version that upgraded it")


def upgrade(url: str) -> tuple[int, int]:
    """Bring the database's schema to CURRENT; returns (version before, version after)."""
    with connect(url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        conn.execute("CREATE TABLE IF NOT EXISTS dlhub_schema (version integer NOT NULL)")
        before = schema_version(conn) or 0
        if before > CURRENT:
            require_current(conn, url)
        for script in MIGRATIONS[before:]:
            conn.execute(script)  # our own literal script, no parameters: several statements at once
        conn.execute("DELETE FROM dlhub_schema")
        conn.execute("INSERT INTO dlhub_schema (version) VALUES (%s)", (CURRENT,))
    return before, CURRENT


def _first(row: Any) -> Any:
    return next(iter(row.values())) if isinstance(row, dict) else row[0]
