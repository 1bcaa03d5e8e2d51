"""`registry migrate`: copy a whole registry (every blob, servable, version and task) to other storage.

Blobs go first, each re-hashed on its way (the destination store refuses bytes that are not the blob); only
when the destination holds every blob a version uses are the records copied (tasks, then servables with
their versions, one transaction per servable), so no copied version references a blob the destination lacks.
Everything is keyed by content or natural key, so running the same migration again copies only what is still
missing: that is how an interrupted migration resumes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlhub_manifest.errors import DLHubManifestError, NotFoundError, UsageError
from dlhub_manifest.registry.blobstore import BlobStore, BlobStoreConfig, open_blob_store
from dlhub_manifest.registry.records import is_postgres, open_records
from dlhub_manifest.registry.rows import CatalogRows, SqliteRows
from dlhub_manifest.registry.store import Store

PARALLEL_BLOBS = 4
TASK_BATCH = 1000
Progress = Callable[[int], object]


@dataclass(frozen=True)
class Location:
    """One side of a migration: where the catalog is (a registry folder) and where its blobs are."""

    catalog: str
    blobs: BlobStoreConfig = field(default_factory=BlobStoreConfig)

    def describe(self) -> str:
        return self.catalog + (f" (blobs in {self.blobs.url})" if self.blobs.url else "")


@dataclass
class MigrationReport:
    """What a migration copied, what it found already there, and the blobs it could not copy."""

    blobs_copied: int = 0
    blobs_present: int = 0
    bytes_copied: int = 0
    servables: int = 0
    versions_added: int = 0
    tasks_added: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "blobs_copied": self.blobs_copied, "blobs_present": self.blobs_present,
                "bytes_copied": self.bytes_copied, "servables": self.servables,
                "versions_added": self.versions_added, "tasks_added": self.tasks_added, "errors": self.errors}


def open_catalog(location: Location, *, create: bool) -> tuple[CatalogRows, BlobStore]:
    """The catalog rows and blob store of `location`: a registry folder, or a PostgreSQL database (whose blobs
    must be named by `--blob-store`: there is no folder to keep them in)."""
    if is_postgres(location.catalog):
        if location.blobs.url is None:
            raise UsageError("a registry in PostgreSQL keeps its blobs in object storage: add --blob-store "
                             "s3://BUCKET/PREFIX (or --from-blob-store for the source)")
        from dlhub_manifest.registry.pg.records import PgRecords
        from dlhub_manifest.registry.pg.rows import PgRows

        records = open_records(Path.cwd(), location.catalog)
        records.verify()  # the schema must be current: `registry upgrade` first
        assert isinstance(records, PgRecords)
        return PgRows(records), open_blob_store(Path.cwd(), location.blobs)
    if "://" in location.catalog:
        raise UsageError(f"{location.catalog.split('://')[0]}:// is not a registry: give a registry folder or a "
                         "postgresql://USER@HOST:PORT/DB URL")
    root = Path(location.catalog).absolute()
    store = Store(root)
    if not create and not store.exists():
        raise NotFoundError(f"no registry at {root} (give the folder `dlhub-manifest registry path` prints)")
    return SqliteRows(store), open_blob_store(root, location.blobs)


def migrate(source: Location, target: Location, progress: Progress | None = None) -> MigrationReport:
    """Copy everything in `source` that `target` does not hold yet; `progress(n)` gets blob bytes copied."""
    if _same(source.catalog, target.catalog) and source.blobs == target.blobs:
        raise UsageError("the source and the destination are the same registry")
    rows, blobs = open_catalog(source, create=False)
    try:
        into_rows, into_blobs = open_catalog(target, create=True)
        try:
            return _migrate(rows, blobs, into_rows, into_blobs, progress)
        finally:
            into_rows.close()
    finally:
        rows.close()


def _migrate(rows: CatalogRows, blobs: BlobStore, into_rows: CatalogRows, into_blobs: BlobStore,
             progress: Progress | None) -> MigrationReport:
    report = MigrationReport()
    failed = _copy_blobs(blobs, into_blobs, report, progress)
    lacking = into_blobs.missing(rows.referenced_blobs()) - failed
    report.errors += [f"blob {d}: a version uses it but the source does not hold it (`registry check` shows "
                      "which)" for d in sorted(lacking)]
    if report.errors:
        return report  # no version may reference a blob the destination lacks: fix the source, run again
    tasks = list(rows.tasks())
    for start in range(0, len(tasks), TASK_BATCH):
        report.tasks_added += into_rows.add_tasks(tasks[start:start + TASK_BATCH])
    for servable in rows.servables():
        report.servables += 1
        report.versions_added += into_rows.add_servable(servable)
    return report


def _same(a: str, b: str) -> bool:
    """Whether two catalog locations name the same registry (folders compared as absolute paths)."""
    return a == b if "://" in a or "://" in b else Path(a).absolute() == Path(b).absolute()


def _copy_blobs(source: BlobStore, target: BlobStore, report: MigrationReport,
                progress: Progress | None) -> set[str]:
    """Every source blob the target lacks, several at a time; a blob that fails is reported (and returned), the
    rest go on."""
    digests = sorted(source.digests())
    wanted = target.missing(digests)
    report.blobs_present = len(digests) - len(wanted)

    lock = threading.Lock()

    def step(n: int) -> None:
        if progress is not None:
            with lock:
                progress(n)

    def copy(digest: str) -> tuple[str, int | None, str | None]:
        try:
            size = source.size(digest)
            if size is None:
                return digest, None, "vanished from the source during the migration"
            with source.open(digest) as stream:
                target.put(stream, digest, size, step)
            return digest, size, None
        except DLHubManifestError as e:
            return digest, None, str(e)

    failed = set()
    with ThreadPoolExecutor(PARALLEL_BLOBS) as pool:
        for digest, size, error in pool.map(copy, sorted(wanted)):
            if error is not None:
                failed.add(digest)
                report.errors.append(f"blob {digest}: {error}")
            else:
                report.blobs_copied += 1
                report.bytes_copied += size or 0
    return failed
