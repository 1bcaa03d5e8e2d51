"""The embedded local registry as a `Target`: `RegistryService` in-process, plus a detached worker."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

from dlhub_manifest.registry.browse import SEARCH_LIMIT
from dlhub_manifest.registry.contracts import PublicationRequest, ServableInfo, ServableSummary, TaskInfo, TaskStatus
from dlhub_manifest.registry.service import Identity, RegistryService
from dlhub_manifest.registry.worker import spawn_worker
from dlhub_manifest.targets.base import LocalCapable, Progress

WARM_IDLE_SECONDS = 20.0


class LocalTarget:
    """Publishes to the registry folder `root` as the local user; queued tasks always have a worker."""

    def __init__(self, root: Path, identity: Identity | None = None) -> None:
        self.root = root
        self.identity = identity or Identity.local()
        self.service = RegistryService(root)

    @property
    def description(self) -> str:
        return f"local registry at {self.root}"

    @property
    def url(self) -> None:
        return None

    def local(self) -> LocalCapable:
        """This target itself: it stores files and runs its worker on this machine."""
        return self

    def missing_blobs(self, digests: Iterable[str]) -> set[str]:
        return self.service.missing_blobs(digests)

    def upload_blob(self, path: Path, sha256: str, size: int, progress: Progress | None = None) -> None:
        with path.open("rb") as fh:
            self.service.put_blob(fh, sha256, size, progress)

    def download_blob(self, sha256: str, out: BinaryIO) -> None:
        with self.service.open_blob(self.identity, sha256) as fh:
            shutil.copyfileobj(fh, out, 1 << 20)

    def store_file(self, path: Path, progress: Progress | None = None) -> tuple[str, int]:
        """Store a file's bytes while hashing them, in one pass; returns (sha256, size)."""
        with path.open("rb") as fh:
            return self.service.blobs.ingest(fh, progress)

    def warm_up(self) -> None:
        """Start the worker now, so it is loaded by the time the task is submitted (hashing may take a while)."""
        spawn_worker(self.root, idle=WARM_IDLE_SECONDS)

    def publish(self, request: PublicationRequest) -> str:
        task_id = self.service.publish(self.identity, request)
        spawn_worker(self.root)
        return task_id

    def task(self, task_id: str) -> TaskInfo:
        status = self.service.task(self.identity, task_id)
        if status["status"] == TaskStatus.QUEUED:
            spawn_worker(self.root)  # its worker may have died, or exited before noticing it
        return status

    def list_servables(self) -> list[ServableSummary]:
        return self.service.list_servables(self.identity)

    def get_servable(self, owner: str, name: str, version: str | None = None) -> ServableInfo:
        return self.service.get_servable(self.identity, owner, name, version)

    def search(self, text: str, limit: int = SEARCH_LIMIT) -> list[ServableSummary]:
        return self.service.search(self.identity, text, limit=limit)

    def whoami(self) -> dict[str, Any]:
        return self.service.whoami(self.identity)
