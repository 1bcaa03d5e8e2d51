"""Resumable blob uploads streamed through the HTTP server: bytes land in `uploads/<sha256>.part`, hashed
as they arrive.

An upload that loses its connection keeps what arrived, so the client continues from `offset` rather
than starting over. Once all `size` bytes are there and hash to the announced digest, the blob store adopts
the file (a folder renames it: same filesystem, so no second copy); a mismatch deletes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from dlhub_manifest.errors import DigestMismatch, OffsetMismatch
from dlhub_manifest.registry.blobs import CHUNK, check_digest
from dlhub_manifest.registry.blobstore import BlobStore
from dlhub_manifest.registry.quota import QuotaExceeded, Quotas
from dlhub_manifest.util.fsutil import atomic_write_text
from dlhub_manifest.util.humanize import human_size


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
        """Check the digest and hand the file to the blob store; a mismatch discards the bytes."""
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        actual = self._hash.hexdigest()
        if actual != self.sha256:
            self.part.unlink(missing_ok=True)
            raise DigestMismatch(f"blob {self.sha256[:12]}: the bytes received hash to {actual[:12]}; "
                                 "the file changed while it was being published: publish again")
        blobs.adopt(self.part, self.sha256)  # content-addressed: a concurrent finisher wrote the same bytes


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
    """The partial uploads of one registry (in its folder), and the blob store they go to once complete.

    Each partial upload has a sidecar (`<sha256>.owner`: who announced how many bytes), so one owner's
    unfinished uploads can be limited (`Quotas.pending_uploads`) and abandoned ones removed after an age.
    """

    def __init__(self, root: Path, blobs: BlobStore, quotas: Quotas | None = None) -> None:
        self.blobs = blobs
        self.dir = root / "uploads"
        self.quotas = quotas or Quotas()

    def part(self, sha256: str) -> Path:
        return self.dir / f"{check_digest(sha256)}.part"

    def _sidecar(self, sha256: str) -> Path:
        return self.dir / f"{check_digest(sha256)}.owner"

    def pending(self, owner: str) -> int:
        """Bytes `owner` has announced in uploads that have not finished."""
        total = 0
        for sidecar in self.dir.glob("*.owner") if self.dir.is_dir() else ():
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(sidecar.read_text(encoding="utf-8"))
                if data.get("owner") == owner and sidecar.with_suffix(".part").exists():
                    total += int(data.get("size", 0))
        return total

    def _claim(self, sha256: str, size: int, owner: str) -> None:
        """Record who announced this upload, refusing it when it takes them past their pending-upload limit."""
        limit = self.quotas.pending_uploads
        sidecar = self._sidecar(sha256)
        mine = sidecar.exists() and _owner_of(sidecar) == owner
        if limit is not None and not mine and self.pending(owner) + size > limit:
            raise QuotaExceeded(f"{owner} has {human_size(self.pending(owner))} of unfinished uploads; another "
                                f"{human_size(size)} would pass this registry's limit of {human_size(limit)}. "
                                "Finish (or wait out) the interrupted uploads first")
        if not sidecar.exists():
            atomic_write_text(sidecar, json.dumps({"owner": owner, "size": size}))

    def stale(self, max_age: float) -> list[tuple[Path, int, float]]:
        """(part, bytes, age in seconds) of every unfinished upload untouched for more than `max_age` seconds."""
        now = time.time()
        out = []
        for part in sorted(self.dir.glob("*.part")) if self.dir.is_dir() else ():
            with contextlib.suppress(FileNotFoundError):
                st = part.stat()
                if now - st.st_mtime > max_age:
                    out.append((part, st.st_size, now - st.st_mtime))
        return out

    def clean(self, max_age: float) -> int:
        """Remove unfinished uploads untouched for more than `max_age` seconds; returns how many."""
        removed = 0
        for part, _, _ in self.stale(max_age):
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
                removed += 1
            part.with_suffix(".owner").unlink(missing_ok=True)
        for sidecar in self.dir.glob("*.owner") if self.dir.is_dir() else ():  # sidecars whose part is gone
            if not sidecar.with_suffix(".part").exists():
                sidecar.unlink(missing_ok=True)
        return removed

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

    def begin(self, sha256: str, start: int, size: int, owner: str = "") -> Upload:
        """Start or resume an upload at `start`, which must be 0 or exactly the bytes already held."""
        held = self.state(sha256)["offset"]
        if start not in (0, held):
            raise OffsetMismatch(sha256, held)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._claim(sha256, size, owner)
        return Upload(self.part(sha256), sha256, start, size)

    def discard(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.part(sha256).unlink()
        self._sidecar(sha256).unlink(missing_ok=True)

    def finished(self, sha256: str) -> None:
        """Forget who announced an upload that is now a stored blob."""
        self._sidecar(sha256).unlink(missing_ok=True)


def _owner_of(sidecar: Path) -> str | None:
    try:
        owner = json.loads(sidecar.read_text(encoding="utf-8")).get("owner")
    except (OSError, ValueError, AttributeError):
        return None
    return owner if isinstance(owner, str) else None
