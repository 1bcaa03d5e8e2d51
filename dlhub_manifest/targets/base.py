"""`Target`: what the publish client needs from a registry, local (in-process) or remote (HTTP).

Content-addressed and resumable: the client asks which blobs are missing, uploads only those, then submits
a publication request and follows the returned task. What only a registry on this machine can do is
`LocalCapable`; `Target.local()` is the one way to ask for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from dlhub_manifest.registry.browse import SEARCH_LIMIT
from dlhub_manifest.registry.contracts import PublicationRequest, ServableInfo, ServableSummary, TaskInfo

Progress = Callable[[int], object]


class LocalCapable(Protocol):
    """What only a registry on this machine can do: share the client's disk and processes."""

    def warm_up(self) -> None:
        """Start the registry's worker now, so it is ready when the task is submitted."""

    def store_file(self, path: Path, progress: Progress | None = None) -> tuple[str, int]:
        """Store a file's bytes while hashing them, in one pass; returns (sha256, size)."""


class Target(Protocol):
    """A registry the client publishes to and looks servables up in."""

    @property
    def description(self) -> str:
        """Where this target is, for messages: `local registry at PATH` or the URL."""

    @property
    def url(self) -> str | None:
        """The registry's HTTP address; None for a registry on this machine (it has none)."""

    def local(self) -> LocalCapable | None:
        """This registry's local capabilities when it is on this machine (it can read this machine's folders
        and files directly), else None."""

    def missing_blobs(self, digests: Iterable[str]) -> set[str]:
        """Which of `digests` the registry does not hold yet."""

    def upload_blob(self, path: Path, sha256: str, size: int, progress: Progress | None = None) -> None:
        """Stream the file at `path` to the registry, which checks its sha256 and size."""

    def download_blob(self, sha256: str, out: BinaryIO) -> None:
        """Write the bytes of blob `sha256` (a file of a version the caller can see) to `out`, unverified."""

    def publish(self, request: PublicationRequest) -> str:
        """Submit a publication request; returns the task id at once."""

    def task(self, task_id: str) -> TaskInfo:
        """The task's status, messages and result."""

    def list_servables(self) -> list[ServableSummary]:
        """Every visible servable with its latest version."""

    def get_servable(self, owner: str, name: str, version: str | None = None) -> ServableInfo:
        """One version (default the latest): document, files, versions, provenance."""

    def search(self, text: str, limit: int = SEARCH_LIMIT) -> list[ServableSummary]:
        """The best `limit` servables matching every word of `text`, best first."""

    def whoami(self) -> dict[str, Any]:
        """The identity the registry sees."""
