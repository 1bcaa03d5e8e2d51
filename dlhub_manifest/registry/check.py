"""`registry check`: re-hash every blob and verify every record's references.

Missing or corrupt blobs and inconsistent records are errors; blobs no version references (left by an
interrupted publish) are fine but reported, as are interrupted uploads.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlhub_manifest.errors import NotFoundError
from dlhub_manifest.registry import store as q
from dlhub_manifest.registry.blobs import CHUNK
from dlhub_manifest.registry.blobstore import BlobStore, open_blob_store
from dlhub_manifest.registry.document import content_digest
from dlhub_manifest.registry.records import Row, Tx, open_records


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


def check_registry(root: Path, progress: Callable[[int], object] | None = None, *,
                   database: str | None = None, blobs: BlobStore | None = None) -> CheckReport:
    """Verify the registry at `root` (its records in `database` when given) and its blob store (default: its
    folder); `progress(n)` is called after each blob with its size."""
    records = open_records(root, database)
    if not records.exists():
        raise NotFoundError(f"no registry at {root} (publish something first, or pass --registry PATH)")
    report = CheckReport(root)
    try:
        referenced = records.read(lambda tx: _check_records(tx, report))
    finally:
        records.close()
    _check_blobs(blobs or open_blob_store(root), referenced, report, progress)
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


def _check_records(tx: Tx, report: CheckReport) -> dict[str, list[tuple[str, int]]]:
    report.errors.extend(tx.integrity_problems())
    referenced = _check_versions(tx, report)
    _check_tasks(tx, report)
    return referenced


def _check_versions(tx: Tx, report: CheckReport) -> dict[str, list[tuple[str, int]]]:
    """Check each version's document and digest; returns sha256 → (version:path, size) of every use."""
    referenced: dict[str, list[tuple[str, int]]] = {}
    for row in tx.all_versions():
        report.versions += 1
        label = f"{row['owner']}/{row['name']}@{row['version']}"
        files = [dict(f) for f in tx.file_rows(row["id"])]
        for f in files:
            referenced.setdefault(f["sha256"], []).append((f"{label}:{f['path']}", f["size"]))
        _check_document(row, label, files, report)
    return referenced


def _check_document(row: Row, label: str, files: list[dict[str, Any]], report: CheckReport) -> None:
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


def _check_tasks(tx: Tx, report: CheckReport) -> None:
    for task_id in tx.lost_versions():
        report.errors.append(f"task {task_id} succeeded but its version is missing")
    running = tx.running_tasks()
    if running:
        report.warnings.append(f"{running} task(s) still running (a dead worker's task is reaped by "
                               "`dlhub-manifest status TASK_ID`)")


def _check_blobs(blobs: BlobStore, referenced: dict[str, list[tuple[str, int]]], report: CheckReport,
                 progress: Callable[[int], object] | None) -> None:
    stored = set()
    for digest in blobs.digests():
        stored.add(digest)
        actual, size = hash_stored(blobs, digest)
        report.blobs += 1
        report.bytes += size
        uses = referenced.get(digest, [])
        if actual != digest:
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


def hash_stored(blobs: BlobStore, digest: str) -> tuple[str, int]:
    """(sha256, size) of the bytes stored as blob `digest`, streamed."""
    hasher = hashlib.sha256()
    size = 0
    with blobs.open(digest) as fh:
        while chunk := fh.read(CHUNK):
            hasher.update(chunk)
            size += len(chunk)
    return hasher.hexdigest(), size


def _users(uses: list[tuple[str, int]]) -> str:
    return ", ".join(label for label, _ in uses) or "nothing"
