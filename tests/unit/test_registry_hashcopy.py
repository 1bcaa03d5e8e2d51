"""The hash-while-copy pipeline: a regular file or any stream, read, hashed and written (O_DIRECT where the disk
takes it), named by what it holds."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import io
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from dlhub_manifest.errors import RegistryError
from dlhub_manifest.registry import hashcopy
from dlhub_manifest.registry.blobs import FolderBlobStore, hash_blob
from dlhub_manifest.registry.hashcopy import BUFFER, THREADED_BYTES, copy_hashing

BIG = THREADED_BYTES + BUFFER + 12_345  # threaded, several buffers, a tail that is not block-aligned


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _copy(src: Path, dst: Path, offset: int = 0, **kwargs: Any) -> tuple[str, int]:
    with open(src, "rb") as fin, open(dst, "w+b") as fout:
        fin.seek(offset)
        return copy_hashing(fin, fout.fileno(), **kwargs)


class Pipe(io.RawIOBase):
    """A stream that is not a file and answers reads in short pieces, as a socket does."""

    def __init__(self, data: bytes, piece: int = 65_537) -> None:
        self._data, self._pos, self._piece = data, 0, piece

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        want = self._piece if n is None or n < 0 else min(n, self._piece)
        chunk = self._data[self._pos:self._pos + want]
        self._pos += len(chunk)
        return chunk


@pytest.mark.parametrize("size", [0, 1, 4096, BIG])
def test_copy_and_digest_match_the_source(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    (tmp_path / "src").write_bytes(data)
    seen: list[int] = []
    assert _copy(tmp_path / "src", tmp_path / "dst", progress=seen.append) == (_sha(data), size)
    assert (tmp_path / "dst").read_bytes() == data
    assert sum(seen) == size


@pytest.mark.parametrize("size", [0, 1, THREADED_BYTES - 1, BIG])
@pytest.mark.parametrize("limit", [None, "size"])
def test_a_stream_that_is_not_a_file_goes_through_the_same_pipeline(tmp_path: Path, size: int,
                                                                   limit: str | None) -> None:
    data = os.urandom(size)
    seen: list[int] = []
    with open(tmp_path / "dst", "w+b") as out:
        got = copy_hashing(Pipe(data), out.fileno(), limit=size if limit else None,  # type: ignore[arg-type]
                           progress=seen.append)
    assert got == (_sha(data), size) and sum(seen) == size
    assert (tmp_path / "dst").read_bytes() == data


def test_offset_and_limit(tmp_path: Path) -> None:
    data = os.urandom(BIG)
    (tmp_path / "src").write_bytes(data)
    part = data[100:100 + THREADED_BYTES + 7]
    assert _copy(tmp_path / "src", tmp_path / "dst", offset=100, limit=len(part)) == (_sha(part), len(part))
    assert (tmp_path / "dst").read_bytes() == part


def _assert_copied_intact(tmp_path: Path) -> None:
    """Copy BIG random bytes from `src` to `dst`: the digest and size are the data's, and `dst` holds the data."""
    data = os.urandom(BIG)
    (tmp_path / "src").write_bytes(data)
    assert _copy(tmp_path / "src", tmp_path / "dst") == (_sha(data), BIG)
    assert (tmp_path / "dst").read_bytes() == data


def _direct(fd: int) -> bool:
    return bool(fcntl.fcntl(fd, fcntl.F_GETFL) & hashcopy.O_DIRECT)


def test_the_body_goes_around_the_page_cache_where_the_filesystem_allows(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.pwritev
    direct: list[bool] = []

    def spy(fd: int, buffers: Any, offset: int) -> int:
        direct.append(_direct(fd))
        return real(fd, buffers, offset)

    monkeypatch.setattr(os, "pwritev", spy)
    _assert_copied_intact(tmp_path)
    with open(tmp_path / "probe", "w+b") as fh:
        supported = hashcopy._set_direct(fh.fileno(), True)
    assert direct[-1] is False  # the unaligned tail went through the page cache
    assert any(direct) is supported  # the aligned body did not, where O_DIRECT works (not on tmpfs)


def test_a_refused_direct_write_is_written_through_the_page_cache(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.pwritev

    def picky(fd: int, buffers: Any, offset: int) -> int:
        if _direct(fd):
            raise OSError(errno.EINVAL, "Invalid argument")  # a device with larger blocks, say
        return real(fd, buffers, offset)

    monkeypatch.setattr(os, "pwritev", picky)
    _assert_copied_intact(tmp_path)


def test_without_o_direct_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hashcopy, "O_DIRECT", 0)
    _assert_copied_intact(tmp_path)


@pytest.mark.parametrize(("call", "after", "error"), [
    ("pwritev", 1, OSError(errno.ENOSPC, "No space left on device")),
    ("preadv", 2, OSError(errno.EIO, "Input/output error")),
], ids=["write-error", "read-error"])
def test_an_io_error_stores_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str, after: int,
                                    error: OSError) -> None:
    real = getattr(os, call)
    calls = [0]

    def failing(*args: Any) -> int:
        calls[0] += 1
        if calls[0] > after:
            raise error
        return int(real(*args))

    monkeypatch.setattr(os, call, failing)
    (tmp_path / "src").write_bytes(os.urandom(BIG))
    store = FolderBlobStore(tmp_path / "reg")
    with pytest.raises(OSError, match=str(error.strerror)), open(tmp_path / "src", "rb") as fh:
        store.ingest(fh)
    assert list(store.digests()) == []
    assert store.strays() == []  # the temp file is gone too


def test_a_source_changing_during_the_copy_still_gives_a_correctly_named_blob(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    src.write_bytes(b"a" * BIG)
    real = os.preadv

    def racing(*args: Any) -> int:
        n = real(*args)
        with open(src, "r+b") as fh:  # another program rewrites the file under us
            fh.write(b"b" * BIG)
        return n

    monkeypatch.setattr(os, "preadv", racing)
    store = FolderBlobStore(tmp_path / "reg")
    with open(src, "rb") as fh:
        digest, size = store.ingest(fh)
    stored = store.path(digest).read_bytes()
    assert stored[:BUFFER] == b"a" * BUFFER and stored[BUFFER:] == b"b" * (BIG - BUFFER)  # both versions...
    assert (hash_blob(store.path(digest)), len(stored)) == (digest, size)  # ...and named by what it holds


def test_put_of_a_regular_file_checks_size_and_digest(tmp_path: Path) -> None:
    data = os.urandom(BIG)
    (tmp_path / "src").write_bytes(data)
    store = FolderBlobStore(tmp_path / "reg")
    with open(tmp_path / "src", "rb") as fh, pytest.raises(RegistryError, match=f"more than the announced {BIG - 1}"):
        store.put(fh, _sha(data[:-1]), BIG - 1)
    with open(tmp_path / "src", "rb") as fh, pytest.raises(RegistryError, match="hash to"):
        store.put(fh, _sha(b"something else"), BIG)
    assert list(store.digests()) == []
    with open(tmp_path / "src", "rb") as fh:
        assert store.put(fh, _sha(data), BIG) is True
    assert hash_blob(store.path(_sha(data))) == _sha(data)


def test_an_interrupted_copy_leaves_no_thread_behind(tmp_path: Path) -> None:
    (tmp_path / "src").write_bytes(os.urandom(BIG))

    def interrupt(n: int) -> None:
        raise KeyboardInterrupt  # Ctrl-C while the first buffer is being reported

    with pytest.raises(KeyboardInterrupt):
        _copy(tmp_path / "src", tmp_path / "dst", progress=interrupt)
    assert not [t for t in threading.enumerate() if t.name in ("blob-reader", "blob-writer")]
