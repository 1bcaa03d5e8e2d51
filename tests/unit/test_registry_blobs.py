"""Content-addressed blobs: verified while written, never half-stored, streamed in bounded chunks."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest

from dlhub_manifest.errors import RegistryError, UsageError
from dlhub_manifest.registry.blobs import FolderBlobStore, hash_blob
from dlhub_manifest.registry.hashcopy import BUFFER


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RecordingStream(io.BytesIO):
    """Remembers the size of every read, to show uploads are streamed."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.reads: list[int] = []

    def read(self, n: int | None = -1) -> bytes:
        self.reads.append(-1 if n is None else n)
        return super().read(n)


def test_put_stores_verified_bytes_read_only(tmp_path: Path) -> None:
    store = FolderBlobStore(tmp_path)
    data = b"hello blob"
    assert store.put(io.BytesIO(data), sha(data), len(data)) is True
    path = store.path(sha(data))
    assert path.read_bytes() == data
    assert path.parent.name == sha(data)[:2]
    assert os.stat(path).st_mode & 0o777 == 0o444
    assert store.missing([sha(data), sha(b"other")]) == {sha(b"other")}
    assert store.put(io.BytesIO(data), sha(data), len(data)) is False  # already there: nothing read


@pytest.mark.parametrize(("body", "size", "problem"), [
    (b"tampered!", 9, "hash to"),
    (b"short", 10, "5 of the announced 10"),
    (b"much too long", 4, "more than the announced 4"),
])
def test_bad_upload_stores_nothing(tmp_path: Path, body: bytes, size: int, problem: str) -> None:
    store = FolderBlobStore(tmp_path)
    claimed = sha(b"expected bytes")
    with pytest.raises(RegistryError, match=problem):
        store.put(io.BytesIO(body), claimed, size)
    assert store.size(claimed) is None
    assert list(store.digests()) == []
    assert store.strays() == []  # the temp file is gone too


def test_upload_is_streamed_in_bounded_chunks(tmp_path: Path) -> None:
    data = os.urandom(2 * BUFFER + 123)
    stream = RecordingStream(data)
    FolderBlobStore(tmp_path).put(stream, sha(data), len(data))
    assert max(stream.reads) <= BUFFER  # one pipeline buffer at a time, never the whole upload
    assert len(stream.reads) >= 3


def test_ingest_names_the_blob_by_its_hash(tmp_path: Path) -> None:
    store = FolderBlobStore(tmp_path)
    data = b"ingested" * 1000
    digest, size = store.ingest(io.BytesIO(data))
    assert (digest, size) == (sha(data), len(data))
    assert hash_blob(store.path(digest)) == digest
    assert store.ingest(io.BytesIO(data)) == (digest, size)  # the same bytes again: still one blob
    assert list(store.digests()) == [digest]


def test_digest_must_be_lower_hex_never_a_path(tmp_path: Path) -> None:
    store = FolderBlobStore(tmp_path)
    for bad in ["../../etc/passwd", "A" * 64, "abc", "g" * 64]:
        with pytest.raises(UsageError, match="not a sha256 digest"):
            store.path(bad)


def test_clean_tmp_removes_only_old_leftovers(tmp_path: Path) -> None:
    store = FolderBlobStore(tmp_path)
    store.tmp.mkdir(parents=True)
    old, fresh = store.tmp / "old.part", store.tmp / "fresh.part"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(old, (1_000_000, 1_000_000))
    assert store.clean_tmp(older_than=3600) == 1
    assert not old.exists() and fresh.exists()
    assert store.strays() == [str(fresh)]
