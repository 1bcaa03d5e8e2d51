"""`RegistryService`: every registry operation; the ones that touch records take the caller's `Identity`.

The local target calls it in-process and the HTTP app (issue 5) is a thin adapter over it, so both behave
the same. Each thread gets its own SQLite connection; the service itself can be shared.
"""

from __future__ import annotations

import getpass
import os
import re
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import NotFoundError
from ..versions import parse_version
from . import store as q
from .blobs import BlobStore, Progress, check_digest
from .document import summary
from .execute import Context
from .request import parse_request, to_json
from .store import Store
from .tasks import LEASE_SECONDS, TaskQueue


@dataclass(frozen=True)
class Identity:
    """Who is calling: an identity id, the namespace they publish under, and their group URNs."""

    id: str
    username: str
    groups: tuple[str, ...] = ()

    @classmethod
    def local(cls) -> Identity:
        """The local user: `local:<login>`, publishing under the login name (made safe for `OWNER/NAME`)."""
        try:
            login = getpass.getuser()
        except (KeyError, OSError):  # no $USER and no passwd entry (some containers)
            login = f"uid{os.getuid()}" if hasattr(os, "getuid") else "local"
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", login).strip("-") or "local"
        return cls(f"local:{name}", name)

    def can_see(self, owner: str, document: dict[str, Any]) -> bool:
        """Owners see their servables; others see public ones or ones shared with their identity or groups."""
        visible = document.get("dlhub", {}).get("visible_to") or ["public"]
        return owner == self.username or bool({"public", self.id, *self.groups} & set(visible))


class RegistryService:
    """The registry's operations over one registry folder (SQLite + blobs)."""

    def __init__(self, root: Path, *, lease_seconds: float = LEASE_SECONDS) -> None:
        self.root = root
        self.blobs = BlobStore(root)
        self.lease_seconds = lease_seconds
        self._local = threading.local()

    @property
    def store(self) -> Store:
        """This thread's store (SQLite connections are per thread)."""
        store: Store | None = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = Store(self.root)
        return store

    @property
    def queue(self) -> TaskQueue:
        return TaskQueue(self.store, self.lease_seconds)

    def context(self) -> Context:
        """What a worker needs to run tasks on this registry."""
        return Context(self.root, self.blobs, self.queue)

    # Blobs are content-addressed and shared: any caller the adapter let in may ask for or add bytes.
    def missing_blobs(self, digests: Iterable[str]) -> set[str]:
        """Which of `digests` the registry does not hold yet (upload only those)."""
        return self.blobs.missing(check_digest(d) for d in digests)

    def put_blob(self, stream: BinaryIO, sha256: str, size: int, progress: Progress | None = None) -> bool:
        """Store an upload after checking its hash and size; False when the blob was already there."""
        return self.blobs.put(stream, sha256, size, progress)

    def publish(self, identity: Identity, request: dict[str, Any]) -> str:
        """Check and queue a publication; returns the task id at once (a worker does the rest)."""
        req = parse_request(request)
        return self.queue.create(identity.id, identity.username, req.kind, to_json(req),
                                 f"{identity.username}/{req.name}", req.idempotency_key)

    def task(self, identity: Identity, task_id: str) -> dict[str, Any]:
        """A task's status and messages (only its submitter sees it); a dead worker's task is reaped first."""
        if not self.store.exists():
            raise NotFoundError(f"no task {task_id!r}: the registry at {self.root} is empty")
        queue = self.queue
        queue.reap()
        task = queue.get(task_id)
        if task is None or task.identity != identity.id:
            raise NotFoundError(f"no task {task_id!r} (see the id `publish` printed)")
        return task.public()

    def list_servables(self, identity: Identity) -> list[dict[str, Any]]:
        """Every servable the caller can see, with its latest version's summary."""
        return [item for item, _ in self._latest_all(identity)]

    def search(self, identity: Identity, text: str) -> list[dict[str, Any]]:
        """Servables whose latest version mentions every word of `text` (title, description, creators, ...)."""
        words = text.lower().split()
        return [item for item, haystack in self._latest_all(identity) if all(w in haystack for w in words)]

    def get_servable(self, identity: Identity, owner: str, name: str, version: str | None = None) -> dict[str, Any]:
        """One version (default the latest) with its document, file index and provenance, plus every version."""
        if not self.store.exists():
            raise _not_found(owner, name, version)
        with self.store.snapshot() as conn:
            servable = q.servable_row(conn, owner, name)
            rows = q.version_rows(conn, servable["id"]) if servable else []
            row = _pick(rows, version)
            if row is None or not identity.can_see(owner, q.loads(row["document"])):
                raise _not_found(owner, name, version)
            files = [dict(f) for f in q.file_rows(conn, row["id"])]
        return {**_version_info(owner, name, row, rows), "files": files, "document": q.loads(row["document"]),
                "provenance": q.loads(row["provenance"]), "content_digest": row["content_digest"],
                "task_id": row["task_id"]}

    def whoami(self, identity: Identity) -> dict[str, Any]:
        """The caller as the registry sees them."""
        return {"id": identity.id, "username": identity.username, "groups": list(identity.groups),
                "registry": str(self.root)}

    def _latest_all(self, identity: Identity) -> list[tuple[dict[str, Any], str]]:
        if not self.store.exists():
            return []
        out = []
        with self.store.snapshot() as conn:
            for servable in q.all_servables(conn):
                rows = q.version_rows(conn, servable["id"])
                row = _pick(rows, None)
                if row is not None and identity.can_see(servable["owner"], q.loads(row["document"])):
                    info = _version_info(servable["owner"], servable["name"], row, rows)
                    out.append(({**info, **summary(q.loads(row["document"]))}, row["search_text"]))
        return out


def _pick(rows: list[sqlite3.Row], version: str | None) -> sqlite3.Row | None:
    """The row of `version` (by semver precedence), or the latest when `version` is None."""
    if not rows:
        return None
    if version is None:
        return max(rows, key=lambda r: parse_version(r["version"]))
    wanted = parse_version(version)
    return next((r for r in rows if parse_version(r["version"]) == wanted), None)


def _version_info(owner: str, name: str, row: sqlite3.Row, rows: list[sqlite3.Row]) -> dict[str, Any]:
    versions = sorted((r["version"] for r in rows), key=parse_version)
    return {"servable": f"{owner}/{name}", "owner": owner, "name": name, "version": row["version"],
            "latest": versions[-1], "versions": versions, "published_at": row["created_at"]}


def _not_found(owner: str, name: str, version: str | None) -> NotFoundError:
    what = f"{owner}/{name}" + (f"@{version}" if version else "")
    return NotFoundError(f"servable {what} is not in the registry (`dlhub-manifest list` shows what is there)")
