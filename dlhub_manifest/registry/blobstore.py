"""Where a registry keeps its content-addressed bytes: the `BlobStore` interface and how to pick one.

Two stores implement it: a folder beside the database (`blobs.FolderBlobStore`, the default) and any
S3-compatible object store (`s3blobs.S3BlobStore`). A blob exists in a store only complete and verified.
Stores that can take bytes straight from clients (presigned URLs) also offer `DirectUploads`; the store
says so in its `direct` attribute, which is None for a folder (clients then stream through the server).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from dlhub_manifest.errors import UsageError

Progress = Callable[[int], object]
ENDPOINT_ENV = "AWS_ENDPOINT_URL"
_S3_URL = re.compile(r"^s3://([a-z0-9][a-z0-9.\-]{1,61}[a-z0-9])(?:/(.*))?$")


@dataclass(frozen=True)
class UploadPlan:
    """How a client sends one blob straight to the store: one presigned PUT, or presigned multipart parts.

    `upload` names the staging object (the blob only appears under its digest once verified); `headers` must
    be sent with every PUT; part N covers bytes [(N-1)*part_size, N*part_size) of the file.
    """

    method: str  # "put" or "multipart"
    upload: str
    urls: list[str]
    headers: dict[str, str] = field(default_factory=dict)
    part_size: int = 0
    upload_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UploadReceipt:
    """What the client reports once its PUTs are done: the staging upload and, for multipart, each part's ETag."""

    upload: str
    upload_id: str | None = None
    etags: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: Any) -> UploadReceipt:
        """From `{upload, upload_id?, parts?: [{number, etag}]}`; a malformed body is a usage error."""
        try:
            parts = {int(p["number"]): str(p["etag"]) for p in body.get("parts") or []}
            upload_id = body.get("upload_id")
            upload = body["upload"]
            if not isinstance(upload, str) or not (upload_id is None or isinstance(upload_id, str)):
                raise TypeError("upload and upload_id must be strings")
        except (AttributeError, KeyError, TypeError, ValueError) as e:
            raise UsageError("send {\"upload\": ..., \"upload_id\": ..., \"parts\": [{\"number\": N, \"etag\": "
                             "...}]} as the upload plan and the store's answers gave them") from e
        return cls(upload, upload_id, parts)


class DirectUploads(Protocol):
    """A store that hands clients presigned URLs and verifies what arrived before the blob may be used."""

    def begin_upload(self, sha256: str, size: int) -> UploadPlan:
        """Presigned URL(s) for sending `size` bytes of blob `sha256` to a staging object."""

    def complete_upload(self, sha256: str, size: int, receipt: UploadReceipt) -> bool:
        """Verify the staged bytes and file them under `sha256`; False when the blob was already stored.

        Raises DigestMismatch (and discards the bytes) when they are not the announced blob."""


class BlobStore(Protocol):
    """The blobs of one registry; safe for many processes at once (content is immutable)."""

    @property
    def direct(self) -> DirectUploads | None:
        """Presigned uploads straight from clients, when the store offers them (None: stream via the server)."""

    @property
    def location(self) -> str:
        """Where the blobs are, for messages (`/srv/registry/blobs`, `s3://bucket/prefix/`)."""

    def ensure_reachable(self) -> None:
        """Raise StorageError, saying what to check, when the store cannot be used (`serve` asks at start)."""

    def size(self, sha256: str) -> int | None:
        """The stored size of blob `sha256`, or None when it is not stored."""

    def missing(self, digests: Iterable[str]) -> set[str]:
        """The digests among `digests` that are not stored yet."""

    def open(self, sha256: str) -> AbstractContextManager[BinaryIO]:
        """The blob's bytes as a stream (NotFoundError when it is not stored)."""

    def local_path(self, sha256: str) -> Path | None:
        """A file on this machine holding blob `sha256` (a folder store: served with sendfile), else None."""

    def put(self, stream: BinaryIO, sha256: str, size: int, progress: Progress | None = None) -> bool:
        """Store `size` bytes read from `stream` as blob `sha256`, verified; False when it was already stored."""

    def ingest(self, stream: BinaryIO, progress: Progress | None = None) -> tuple[str, int]:
        """Store whatever `stream` holds under its digest; returns (sha256, size)."""

    def adopt(self, path: Path, sha256: str) -> None:
        """Make a local file already verified as blob `sha256` (a finished upload) part of the store."""

    def delete(self, sha256: str) -> bool:
        """Remove blob `sha256`; False when it was not stored (`registry` maintenance only)."""

    def digests(self) -> Iterator[str]:
        """Every stored digest."""

    def strays(self) -> list[str]:
        """What in the store is not a blob: interrupted uploads and foreign objects."""

    def clean_tmp(self, older_than: float = 3600.0) -> int:
        """Remove interrupted uploads older than `older_than` seconds; returns how many were removed."""


@dataclass(frozen=True)
class BlobStoreConfig:
    """Which blob store a registry uses: None = the folder beside its database, else an `s3://` URL."""

    url: str | None = None
    endpoint_url: str | None = None
    multipart_threshold: int | None = None

    def argv(self) -> list[str]:
        """The same choice as command-line options (handed to the worker process)."""
        out = ["--blob-store", self.url] if self.url else []
        out += ["--s3-endpoint-url", self.endpoint_url] if self.endpoint_url else []
        return out + (["--multipart-threshold", str(self.multipart_threshold)] if self.multipart_threshold else [])


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://BUCKET/PREFIX` → (bucket, prefix ending in `/` or empty); anything else is a usage error."""
    m = _S3_URL.match(url)
    if not m:
        raise UsageError(f"{url!r} is not a blob store: use s3://BUCKET or s3://BUCKET/PREFIX (a bucket name is "
                         "3-63 lower-case letters, digits, dots and dashes)")
    prefix = (m[2] or "").strip("/")
    return m[1], f"{prefix}/" if prefix else ""


def open_blob_store(root: Path, config: BlobStoreConfig | None = None) -> BlobStore:
    """The blob store `config` names for the registry at `root` (the folder `root/blobs` by default)."""
    from dlhub_manifest.registry.blobs import FolderBlobStore

    if config is None or config.url is None:
        return FolderBlobStore(root)
    from dlhub_manifest.registry.s3blobs import S3BlobStore

    bucket, prefix = parse_s3_url(config.url)
    endpoint = config.endpoint_url or os.environ.get(ENDPOINT_ENV) or None
    return S3BlobStore(bucket, prefix, endpoint_url=endpoint, multipart_threshold=config.multipart_threshold)
