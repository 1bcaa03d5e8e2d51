"""Remembered sha256 of unchanged files, so publishing again does not re-read gigabytes of weights.

Like git's index: an entry is trusted only while the file's size, mtime, ctime, inode and device are
unchanged (ctime cannot be set back by tools), and only for files last modified well before they were
hashed, so a write in the same timestamp tick as the hashing can never hide behind a cached digest.
Any problem with the cache itself disables it; it is never needed for correctness.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

NO_CACHE_ENV = "DLHUB_MANIFEST_NO_CACHE"  # set (not 0): no remembered hashes or inspections are used
RACY_NS = 2_000_000_000  # coarse filesystem timestamps (FAT: 2 s) could hide a write closer than this
_KEY = ("st_size", "st_mtime_ns", "st_ctime_ns", "st_ino", "st_dev")


def caching_enabled() -> bool:
    """False when `$DLHUB_MANIFEST_NO_CACHE` is set to anything but an empty string or 0."""
    return os.environ.get(NO_CACHE_ENV, "") in ("", "0")


class HashCache:
    """A small SQLite table of path → (stat fingerprint, sha256) in the user's cache folder."""

    def __init__(self, path: Path | None) -> None:
        self._conn: sqlite3.Connection | None = None
        if path is not None:
            with contextlib.suppress(sqlite3.Error, OSError):
                path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(path, timeout=5, isolation_level=None)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("CREATE TABLE IF NOT EXISTS hashes (path TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, "
                             "sha256 TEXT NOT NULL)")
                self._conn = conn

    def lookup(self, path: Path, st: os.stat_result) -> str | None:
        """The remembered sha256 of `path` if it has not changed since, else None."""
        if self._conn is None:
            return None
        try:
            row = self._conn.execute("SELECT fingerprint, sha256 FROM hashes WHERE path = ?",
                                     (str(path),)).fetchone()
        except sqlite3.Error:
            return None
        return str(row[1]) if row and row[0] == fingerprint(st) else None

    def remember(self, path: Path, st: os.stat_result, sha256: str, hashed_at_ns: int) -> None:
        """Remember `sha256` for `path` as it was (`st`) when hashing began at `hashed_at_ns`."""
        if self._conn is None or st.st_mtime_ns > hashed_at_ns - RACY_NS:
            return
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("INSERT OR REPLACE INTO hashes (path, fingerprint, sha256) VALUES (?, ?, ?)",
                               (str(path), fingerprint(st), sha256))

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def fingerprint(st: os.stat_result) -> str:
    """What identifies a version of a file without reading it: size, mtime, ctime, inode and device."""
    return ":".join(str(getattr(st, k)) for k in _KEY)
