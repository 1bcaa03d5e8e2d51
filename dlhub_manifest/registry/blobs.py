"""The folder blob store: `blobs/ab/abcdef...` named by the sha256 of the bytes they hold.

Bytes are hashed as they are written to a temp file (with O_DIRECT where the disk allows, see `hashcopy`),
checked against the announced digest and size, fsynced and renamed into place, so a blob exists
only complete and correct. Blobs are never modified.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from dlhub_manifest.errors import DigestMismatch, NotFoundError, UsageError
from dlhub_manifest.registry.blobstore import DirectUploads
from dlhub_manifest.registry.hashcopy import copy_hashing
from dlhub_manifest.util.fsutil import fsync_dir

CHUNK = 1 << 20
BLOB_MODE = 0o444
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
Progress = Callable[[int], object]


def check_digest(sha256: str) -> str:
    """`sha256` if it is 64 lower-case hex digits; anything else is a usage error (and never a path)."""
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise UsageError(f"{sha256!r} is not a sha256 digest (64 lower-case hex digits)")
    return sha256


class FolderBlobStore:
    """The blobs of one registry in a folder; safe for many processes at once (rename is atomic, content is
    immutable). Clients stream uploads through the server (`direct` is None)."""

    direct: DirectUploads | None = None

    def __init__(self, root: Path) -> None:
        self.root = root / "blobs"
        self.tmp = self.root / "tmp"

    @property
    def location(self) -> str:
        return str(self.root)

    def ensure_reachable(self) -> None:
        """Nothing to check: the folder is created with the first blob."""

    def path(self, sha256: str) -> Path:
        """Where the blob `sha256` lives (whether or not it exists)."""
        check_digest(sha256)
        return self.root / sha256[:2] / sha256

    def size(self, sha256: str) -> int | None:
        """The stored size of blob `sha256`, or None when it is not stored."""
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def missing(self, digests: Iterable[str]) -> set[str]:
        """The digests among `digests` that are not stored yet."""
        return {d for d in digests if self.size(d) is None}

    @contextlib.contextmanager
    def open(self, sha256: str) -> Iterator[BinaryIO]:
        """The blob's bytes (NotFoundError when it is not stored)."""
        try:
            fh = self.path(sha256).open("rb")
        except FileNotFoundError as e:
            raise NotFoundError(f"blob {sha256} is not in {self.root}") from e
        with fh:
            yield fh

    def local_path(self, sha256: str) -> Path | None:
        """The blob's file, when it is stored."""
        path = self.path(sha256)
        return path if path.is_file() else None

    def adopt(self, path: Path, sha256: str) -> None:
        """File a verified upload under its digest by renaming it (same filesystem: no second copy)."""
        self._file_under(str(path), sha256)
        path.unlink(missing_ok=True)  # left only when the blob was already stored

    def delete(self, sha256: str) -> bool:
        """Remove blob `sha256`; False when it was not stored."""
        try:
            self.path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def put(self, stream: BinaryIO, sha256: str, size: int, progress: Progress | None = None) -> bool:
        """Store `size` bytes read from `stream` as blob `sha256`; False when it was already stored.

        The bytes are verified while they are written; a mismatch stores nothing and raises DigestMismatch.
        """
        if self.path(sha256).exists():
            return False
        with self._staged() as (out, keep):
            actual, written = _fill(stream, out, size, progress)
            check_received(sha256, size, actual, written)
            keep(actual)
        return True

    def ingest(self, stream: BinaryIO, progress: Progress | None = None) -> tuple[str, int]:
        """Store whatever `stream` holds, hashing while writing (one pass); returns (sha256, size)."""
        with self._staged() as (out, keep):
            actual, written = _fill(stream, out, None, progress)
            keep(actual)
        return actual, written

    @contextlib.contextmanager
    def _staged(self) -> Iterator[tuple[BinaryIO, Callable[[str], None]]]:
        """A temp file to fill, and `keep(digest)` to file it under its digest once complete (else it is dropped)."""
        self.tmp.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".part", dir=self.tmp)
        kept: list[str] = []
        try:
            with os.fdopen(fd, "wb") as out:
                yield out, kept.append
                out.flush()
                os.fsync(out.fileno())
            if kept:
                self._file_under(tmp, kept[0])
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _file_under(self, tmp: str, sha256: str) -> None:
        final = self.path(sha256)
        if final.exists():
            return  # content-addressed: the stored bytes are these bytes
        os.chmod(tmp, BLOB_MODE)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)  # atomic; a concurrent writer of the same digest wrote the same bytes
        fsync_dir(final.parent)

    def digests(self) -> Iterator[str]:
        """Every stored digest (files whose name is not a digest are skipped; `strays` lists them)."""
        for path in self._blob_files():
            if _SHA256.match(path.name) and path.parent.name == path.name[:2]:
                yield path.name

    def strays(self) -> list[str]:
        """Files in the blob folder that are not blobs: interrupted uploads and foreign files."""
        out = [p for p in self._blob_files() if not (_SHA256.match(p.name) and p.parent.name == p.name[:2])]
        if self.tmp.is_dir():
            out.extend(p for p in self.tmp.iterdir())
        return [str(p) for p in sorted(out)]

    def clean_tmp(self, older_than: float = 3600.0) -> int:
        """Remove interrupted uploads older than `older_than` seconds; returns how many were removed."""
        if not self.tmp.is_dir():
            return 0
        cutoff = time.time() - older_than
        removed = 0
        for part in self.tmp.iterdir():
            with contextlib.suppress(FileNotFoundError):
                if part.stat().st_mtime < cutoff:
                    part.unlink()
                    removed += 1
        return removed

    def _blob_files(self) -> Iterator[Path]:
        if not self.root.is_dir():
            return
        for shard in sorted(self.root.iterdir()):
            if shard.is_dir() and shard != self.tmp:
                yield from sorted(p for p in shard.iterdir() if p.is_file())


def hash_blob(path: Path) -> str:
    """sha256 of a stored blob, streamed."""
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buffer):
            digest.update(view[:n])
    return digest.hexdigest()


def _fill(stream: BinaryIO, out: BinaryIO, limit: int | None, progress: Progress | None) -> tuple[str, int]:
    """Copy `stream` into the empty temp file `out` while hashing the copy (at most `limit + 1` bytes: one more
    reveals an over-long upload); see `hashcopy`."""
    return copy_hashing(stream, out.fileno(), limit=None if limit is None else limit + 1, progress=progress)


def check_received(sha256: str, size: int, actual: str, written: int) -> None:
    """Raise DigestMismatch unless `written` bytes hashing to `actual` are the announced blob."""
    retry = "the file changed while it was being published: publish again"
    if written != size:
        got = f"more than the announced {size}" if written > size else f"{written} of the announced {size}"
        raise DigestMismatch(f"blob {sha256[:12]}: received {got} bytes; {retry}")
    if actual != sha256:
        raise DigestMismatch(f"blob {sha256[:12]}: the bytes received hash to {actual[:12]}, not {sha256[:12]}; "
                            f"{retry}")
