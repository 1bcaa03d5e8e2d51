"""Registering a version: pick the version, enforce immutability, and write the version row, its file index
and the task's final status in ONE transaction (a crash leaves the old state or the new one, never half)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dlhub_manifest.registry import store as q
from dlhub_manifest.registry.contracts import FileRecord, TaskResult, TaskStatus
from dlhub_manifest.registry.document import content_digest, fill_registry_fields, search_text
from dlhub_manifest.registry.quota import check_storage
from dlhub_manifest.registry.records import Records, Row, Tx
from dlhub_manifest.registry.tasks import Task
from dlhub_manifest.util.humanize import human_size
from dlhub_manifest.util.versions import choose_version, next_version


@dataclass(frozen=True)
class Registration:
    """What to register: the document as built, its files, the version asked for (if any), provenance."""

    document: dict[str, Any]
    files: Sequence[FileRecord]
    version: str | None
    provenance: dict[str, Any]
    quota: int | None = None  # bytes the owner may use in all (None: no limit)


def register(records: Records, task: Task, worker: str, reg: Registration) -> None:
    """Register `reg` for `task`'s owner and close the task (succeeded, already published, or a conflict).

    Two workers registering the same version at once cannot both succeed: the database's unique constraint on
    (servable, version) rejects the second insert, and its transaction is retried and sees the first.
    """
    records.write(lambda tx: _register(tx, task, worker, reg))


def _register(tx: Tx, task: Task, worker: str, reg: Registration) -> None:
    now = time.time()
    name = str(reg.document["dlhub"]["name"])
    digest = content_digest(reg.document, reg.files)
    servable = tx.ensure_servable(task.owner, name, str(uuid.uuid4()), now)
    existing = {r["version"]: r for r in tx.version_rows(servable["id"])}
    version, collides = choose_version({v: r["content_digest"] for v, r in existing.items()}, reg.version, digest)
    same = existing[collides] if collides else None
    base: TaskResult = {"servable": f"{task.owner}/{name}", "version": version, "content_digest": digest,
                        "files": len(reg.files), "bytes": sum(f["size"] for f in reg.files), "already_published": True}
    if same is not None:
        if same["content_digest"] == digest:
            tx.finish(task.id, worker, TaskStatus.SUCCEEDED, f"{base['servable']}@{version} is already "
                      "published with this content; nothing to do", base)
        else:
            tx.finish(task.id, worker, TaskStatus.FAILED, _conflict_text(tx, base["servable"], same, reg, existing))
        return
    check_storage(tx, task.owner, reg.files, reg.quota)  # raises: the transaction rolls back
    document = fill_registry_fields(reg.document, owner=task.owner, uuid=servable["uuid"], version=version,
                                    now=now)
    tx.insert_version({
        "servable_id": servable["id"], "version": version, "document": q.dumps(document), "content_digest": digest,
        "provenance": q.dumps(reg.provenance), "search_text": search_text(document, task.owner),
        "created_at": now, "task_id": task.id}, reg.files)
    tx.finish(task.id, worker, TaskStatus.SUCCEEDED,
              f"published {base['servable']}@{version} ({base['files']} files, {human_size(base['bytes'])})",
              {**base, "already_published": False})


def _conflict_text(tx: Tx, servable: str, row: Row, reg: Registration, existing: dict[str, Row]) -> str:
    old = {r["path"]: r["sha256"] for r in tx.file_rows(row["id"])}
    new = {f["path"]: f["sha256"] for f in reg.files}
    changed = sorted(p for p in old.keys() | new.keys() if old.get(p) != new.get(p))
    what = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    detail = f"files that differ: {what}" if changed else "the metadata differs"
    return (f"{servable}@{row['version']} is already published with different content ({detail}); a published "
            f"version is immutable: set a new `version` in dlhub.yaml (e.g. {next_version(existing)}) or tag a new "
            "release, then publish again")
