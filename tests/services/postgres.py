"""A real PostgreSQL for the tests: `initdb` + `pg_ctl` in a temporary folder on a free port, stopped afterwards.

`postgres_server` (session) starts one cluster with a migrated template database; `postgres_url` (per test) is
a fresh database cloned from it with `CREATE DATABASE ... TEMPLATE`, so each test starts empty in milliseconds.
Without PostgreSQL installed the tests skip with the reason, except when `DLHUB_SERVICES_REQUIRED=1` (CI):
there a missing service is a failure, never a silent skip.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REQUIRED_ENV = "DLHUB_SERVICES_REQUIRED"
SEARCH_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
TEMPLATE = "dlhub_template"
_serial = itertools.count()


@dataclass(frozen=True)
class PostgresServer:
    """A running cluster: where it listens and how to reach a database in it."""

    host: str
    port: int
    user: str

    def url(self, database: str) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    return next((str(d / name) for d in SEARCH_DIRS if (d / name).is_file()), None)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says why."""


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRED_ENV) == "1":
        pytest.fail(f"PostgreSQL is required here ({REQUIRED_ENV}=1) but {reason}")
    pytest.skip(f"PostgreSQL tests need the `postgresql` package: {reason}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(argv: list[str]) -> list[str]:
    """Run as the `postgres` user when we are root (initdb refuses root)."""
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str]) -> None:
    done = subprocess.run(_as_postgres(argv), capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr or done.stdout}")


@contextlib.contextmanager
def temporary_cluster(max_connections: int = 200) -> Iterator[PostgresServer]:
    """A PostgreSQL cluster in a temporary folder on a free 127.0.0.1 port, trusting local connections and
    tuned for throw-away data (no fsync); stopped and deleted afterwards. Raises PostgresUnavailable."""
    initdb, pg_ctl = _tool("initdb"), _tool("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise PostgresUnavailable("initdb/pg_ctl were not found on PATH or in /usr/lib/postgresql/*/bin")
    try:
        import psycopg  # noqa: F401
    except ImportError as e:
        raise PostgresUnavailable("the psycopg package is not installed (pip install 'psycopg[binary]')") from e
    tmp = Path(tempfile.mkdtemp(prefix="dlhub-pg-"))
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
    data, port = tmp / "data", _free_port()
    user = "postgres" if os.geteuid() == 0 else os.environ.get("USER", "postgres")
    try:
        _run([initdb, "-D", str(data), "-A", "trust", "-U", user, "--no-sync", "-E", "UTF8", "--locale", "C"])
        options = (f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
                   f"-c full_page_writes=off -c max_connections={max_connections}")
        _run([pg_ctl, "-D", str(data), "-o", options, "-l", str(tmp / "server.log"), "-w", "start"])
    except RuntimeError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        raise PostgresUnavailable(str(e)) from e
    try:
        yield PostgresServer("127.0.0.1", port, user)
    finally:
        _run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(tmp, ignore_errors=True)


def create_database(server: PostgresServer, name: str, template: str = "template0") -> str:
    """Create database `name` (a copy of `template`) and return its URL."""
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    return server.url(name)


def drop_database(server: PostgresServer, name: str) -> None:
    """Drop database `name`, closing its connections."""
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the session, with a migrated template database."""
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(temporary_cluster())
        except PostgresUnavailable as e:
            _unavailable(str(e))
        _make_template(server)
        yield server


def _make_template(server: PostgresServer) -> None:
    """A database at the current schema that every test's database is cloned from."""
    from dlhub_manifest.registry.pg.migrate import upgrade

    upgrade(create_database(server, TEMPLATE))


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, migrated, empty database of its own for one test (dropped afterwards)."""
    name = f"t{os.getpid()}_{next(_serial)}"
    yield create_database(postgres_server, name, TEMPLATE)
    drop_database(postgres_server, name)


@pytest.fixture
def blank_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh database without the registry schema (for migration tests)."""
    name = f"b{os.getpid()}_{next(_serial)}"
    yield create_database(postgres_server, name)
    drop_database(postgres_server, name)
