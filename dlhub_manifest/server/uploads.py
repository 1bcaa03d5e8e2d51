"""Resumable blob uploads for the HTTP server: bytes land in `uploads/<sha256>.part`, hashed as they arrive.

An upload that loses its connection keeps what arrived, so the client continues from `offset` rather
than starting over. Once all `size` bytes are there and hash to the announced digest, the file is
renamed into the content-addressed blob store (same filesystem, so no second copy); a mismatch deletes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path
from typing import Any

from dlhub_manifest.errors import DigestMismatch, OffsetMismatch
from dlhub_manifest.registry.blobs import BLOB_MODE, CHUNK, BlobStore, check_digest
from dlhub_manifest.util.fsutil import fsync_dir


class Upload:
    """One PUT's worth of bytes appended to a partial upload, hashed on the way."""

    def __init__(self, part: Path, sha256: str, start: int, size: int) -> None:
        self.part, self.sha256, self.size = part, sha256, size
        self._hash = hashlib.sha256()
        self._fh = _open_at(part, start, self._hash)
        self.received = start

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Append bytes (called from a worker thread: hashlib and file writes release the GIL)."""
        self._hash.update(data)
        self._fh.write(data)
        self.received += len(data)

    def close(self) -> None:
        self._fh.close()

    def finish(self, blobs: BlobStore) -> None:
        """Check the digest and move the file into the blob store; a mismatch discards the bytes."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        actual = self._hash.hexdigest()
        if actual != self.sha256:
            self.part.unlink(missing_ok=True)
            raise DigestMismatch(f"blob {self.sha256[:12]}: the bytes received hash to {actual[:12]}; "
                                 "the file changed while it was being published: publish again")
        final = blobs.path(self.sha256)
        os.chmod(self.part, BLOB_MODE)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.part, final)  # content-addressed: a concurrent finisher wrote the same bytes
        fsync_dir(final.parent)


def _open_at(part: Path, start: int, digest: Any) -> Any:
    """Open the partial file for appending at `start`, re-hashing the bytes already there."""
    if start == 0:
        return part.open("wb")
    fh = part.open("r+b")
    left = start
    while left:
        chunk = fh.read(min(CHUNK, left))
        if not chunk:
            break
        digest.update(chunk)
        left -= len(chunk)
    fh.seek(start)
    fh.truncate()
    return fh


class UploadArea:
    """The partial uploads of one registry, beside its blob store."""

    def __init__(self, root: Path) -> None:
        self.blobs = BlobStore(root)
        self.dir = root / "uploads"

    def part(self, sha256: str) -> Path:
        return self.dir / f"{check_digest(sha256)}.part"

    def state(self, sha256: str) -> dict[str, Any]:
        """`{sha256, complete, offset}`: whether the blob is stored, else how many bytes arrived so far."""
        size = self.blobs.size(sha256)
        if size is not None:
            return {"sha256": sha256, "complete": True, "offset": size}
        try:
            offset = self.part(sha256).stat().st_size
        except FileNotFoundError:
            offset = 0
        return {"sha256": sha256, "complete": False, "offset": offset}

    def begin(self, sha256: str, start: int, size: int) -> Upload:
        """Start or resume an upload at `start`, which must be 0 or exactly the bytes already held."""
        held = self.state(sha256)["offset"]
        if start not in (0, held):
            raise OffsetMismatch(sha256, held)
        self.dir.mkdir(parents=True, exist_ok=True)
        return Upload(self.part(sha256), sha256, start, size)

    def discard(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.part(sha256).unlink()
