"""Per-owner limits of a shared registry: stored bytes, and bytes announced by unfinished uploads.

An owner's storage is the size of the distinct blobs their versions use (a file shared by two versions
counts once); the check runs before a version is registered, so a publication over the quota fails with a
message and stores nothing new in the catalog.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from dlhub_manifest.errors import QuotaExceeded
from dlhub_manifest.registry.contracts import FileRecord
from dlhub_manifest.util.humanize import human_size

DAY = 86400.0


__all__ = ["DAY", "QuotaExceeded", "Quotas", "check_storage", "owner_usage"]


@dataclass(frozen=True)
class Quotas:
    """`owner_storage`: bytes one owner's versions may use; `pending_uploads`: bytes one owner may have announced
    in unfinished uploads; `upload_max_age`: seconds after which an unfinished upload is removed."""

    owner_storage: int | None = None
    pending_uploads: int | None = 20 << 30
    upload_max_age: float = DAY


def owner_usage(conn: sqlite3.Connection, owner: str) -> dict[str, int]:
    """sha256 → size of every blob the owner's versions use (in the SQLite records)."""
    rows = conn.execute("SELECT DISTINCT f.sha256, f.size FROM version_files f JOIN versions v ON v.id = "
                        "f.version_id JOIN servables s ON s.id = v.servable_id WHERE s.owner = ?", (owner,))
    return {str(r[0]): int(r[1]) for r in rows}


class UsageSource(Protocol):
    """Records that can say what an owner's versions use (`records.Tx` in SQLite or PostgreSQL)."""

    def owner_usage(self, owner: str) -> dict[str, int]: ...


def check_storage(records: UsageSource, owner: str, files: Iterable[FileRecord], limit: int | None) -> None:
    """QuotaExceeded when adding `files` would take `owner` past `limit` bytes (None: no limit)."""
    if limit is None:
        return
    used = records.owner_usage(owner)
    new = {f["sha256"]: int(f["size"]) for f in files if f["sha256"] not in used}
    total = sum(used.values()) + sum(new.values())
    if total > limit:
        raise QuotaExceeded(f"{owner} would use {human_size(total)} with this publication, over the "
                            f"{human_size(limit)} this registry allows one owner ({human_size(sum(used.values()))} "
                            "in use); remove files from the publication or ask the administrator for more")
