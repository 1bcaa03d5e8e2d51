"""Running a multi-statement SQL script inside the caller's transaction (`executescript` would commit first)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator


def statements(script: str) -> Iterator[str]:
    """The complete statements of `script`, trigger bodies (`BEGIN ... END;`) kept whole."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        yield pending.strip()  # an unterminated last statement: let SQLite report what is wrong with it


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Execute every statement of `script` on `conn`, in order."""
    for statement in statements(script):
        conn.execute(statement)
