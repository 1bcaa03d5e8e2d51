"""`registry check`: re-hash every blob and verify every record's references.

Missing or corrupt blobs and inconsistent records are errors; blobs no version references (left by an
interrupted publish) are fine but reported, as are interrupted uploads.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlhub_manifest.errors import NotFoundError
from dlhub_manifest.registry import store as q
from dlhub_manifest.registry.blobs import BlobStore, hash_blob
from dlhub_manifest.registry.contracts import TaskStatus
from dlhub_manifest.registry.document import content_digest
from dlhub_manifest.registry.store import Store


@dataclass
class CheckReport:
    """What `registry check` found."""

    root: Path
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    blobs: int = 0
    bytes: int = 0
    versions: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"registry": str(self.root), "ok": self.ok, "errors": self.errors, "warnings": self.warnings,
                "orphan_blobs": self.orphans, "blobs": self.blobs, "bytes": self.bytes, "versions": self.versions}


def check_registry(root: Path, progress: Callable[[int], object] | None = None) -> CheckReport:
    """Verify the registry at `root`; `progress(n)` is called after each blob with its size."""
    store = Store(root)
    if not store.exists():
        raise NotFoundError(f"no registry at {root} (publish something first, or pass --registry PATH)")
    report = CheckReport(root)
    try:
        with store.snapshot() as conn:
            _check_database(conn, report)
            referenced = _check_versions(conn, report)
            _check_tasks(conn, report)
    finally:
        store.close()
    _check_blobs(BlobStore(root), referenced, report, progress)
    _check_uploads(root, report)
    return report


def _check_uploads(root: Path, report: CheckReport) -> None:
    """Unfinished uploads: resumable for a while, then abandoned (`serve --upload-max-age` removes them)."""
    from dlhub_manifest.util.humanize import human_size

    now = time.time()
    for part in sorted((root / "uploads").glob("*.part")):
        with contextlib.suppress(FileNotFoundError):
            st = part.stat()
            hours = (now - st.st_mtime) / 3600
            report.warnings.append(f"unfinished upload uploads/{part.name}: {human_size(st.st_size)}, untouched "
                                   f"for {hours:.1f} h (removed by `serve` after --upload-max-age, or by "
                                   "`registry check --remove-uploads-older-than SECONDS`)")


def _check_database(conn: sqlite3.Connection, report: CheckReport) -> None:
    result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        report.errors.append(f"database integrity check failed: {result}")
    for row in conn.execute("PRAGMA foreign_key_check"):
        report.errors.append(f"database: {row[0]} row {row[1]} refers to a missing {row[2]} row")


def _check_versions(conn: sqlite3.Connection, report: CheckReport) -> dict[str, list[tuple[str, int]]]:
    """Check each version's document and digest; returns sha256 → (version:path, size) of every use."""
    referenced: dict[str, list[tuple[str, int]]] = {}
    rows = conn.execute("SELECT v.*, s.owner, s.name FROM versions v JOIN servables s ON s.id = v.servable_id")
    for row in rows:
        report.versions += 1
        label = f"{row['owner']}/{row['name']}@{row['version']}"
        files = [dict(f) for f in q.file_rows(conn, row["id"])]
        for f in files:
            referenced.setdefault(f["sha256"], []).append((f"{label}:{f['path']}", f["size"]))
        _check_document(row, label, files, report)
    return referenced


def _check_document(row: sqlite3.Row, label: str, files: list[dict[str, Any]], report: CheckReport) -> None:
    try:
        document = q.loads(row["document"])
    except ValueError as e:
        report.errors.append(f"{label}: stored document is not JSON ({e})")
        return
    dlhub = document.get("dlhub", {}) if isinstance(document, dict) else {}
    if dlhub.get("name") != row["name"] or dlhub.get("version") != row["version"]:
        report.errors.append(f"{label}: document says {dlhub.get('name')}@{dlhub.get('version')}")
    if content_digest(document, files) != row["content_digest"]:
        report.errors.append(f"{label}: content digest does not match the stored document and files "
                             "(the database was changed outside dlhub-manifest)")


def _check_tasks(conn: sqlite3.Connection, report: CheckReport) -> None:
    for row in conn.execute("SELECT t.id FROM tasks t WHERE t.status = ? AND json_extract(t.result, "
                            "'$.already_published') = 0 AND NOT EXISTS (SELECT 1 FROM versions v WHERE "
                            "v.task_id = t.id)", (TaskStatus.SUCCEEDED,)):
        report.errors.append(f"task {row[0]} succeeded but its version is missing")
    running = conn.execute("SELECT COUNT(*) FROM tasks WHERE status = ?", (TaskStatus.RUNNING,)).fetchone()[0]
    if running:
        report.warnings.append(f"{running} task(s) still running (a dead worker's task is reaped by "
                               "`dlhub-manifest status TASK_ID`)")


def _check_blobs(blobs: BlobStore, referenced: dict[str, list[tuple[str, int]]], report: CheckReport,
                 progress: Callable[[int], object] | None) -> None:
    stored = set()
    for digest in blobs.digests():
        stored.add(digest)
        path = blobs.path(digest)
        size = path.stat().st_size
        report.blobs += 1
        report.bytes += size
        uses = referenced.get(digest, [])
        if hash_blob(path) != digest:
            report.errors.append(f"blob {digest} is corrupt: its bytes no longer hash to its name "
                                 f"(used by {_users(uses)})")
        elif any(recorded != size for _, recorded in uses):
            report.errors.append(f"blob {digest} has {size} bytes but the file index of {_users(uses)} "
                                 "records another size")
        if progress is not None:
            progress(size)
    for digest in sorted(referenced.keys() - stored):
        report.errors.append(f"blob {digest} is missing (used by {_users(referenced[digest])})")
    report.orphans = sorted(stored - referenced.keys())
    report.warnings.extend(f"interrupted upload or foreign file: {p}" for p in blobs.strays())


def _users(uses: list[tuple[str, int]]) -> str:
    return ", ".join(label for label, _ in uses) or "nothing"
