"""Storing a regular file: copied inside the kernel while the copy is hashed, named by the bytes it holds."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from dlhub_manifest.errors import RegistryError
from dlhub_manifest.registry import filecopy
from dlhub_manifest.registry.blobs import BlobStore, hash_blob
from dlhub_manifest.registry.filecopy import STEP, THREADED_BYTES, copy_hashing_file

BIG = THREADED_BYTES + STEP + 12_345  # threaded, several copier steps, an odd tail


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _copy(src: Path, dst: Path, **kwargs: Any) -> tuple[str, int]:
    with open(src, "rb") as fin, open(dst, "w+b") as fout:
        return copy_hashing_file(fin.fileno(), fout.fileno(), **kwargs)


@pytest.mark.parametrize("size", [0, 1, 4096, BIG])
def test_copy_and_digest_match_the_source(tmp_path: Path, size: int) -> None:
    data = os.urandom(size)
    (tmp_path / "src").write_bytes(data)
    seen: list[int] = []
    assert _copy(tmp_path / "src", tmp_path / "dst", progress=seen.append) == (_sha(data), size)
    assert (tmp_path / "dst").read_bytes() == data
    assert sum(seen) == size


def test_offset_and_limit(tmp_path: Path) -> None:
    data = os.urandom(BIG)
    (tmp_path / "src").write_bytes(data)
    part = data[100:100 + THREADED_BYTES + 7]
    assert _copy(tmp_path / "src", tmp_path / "dst", offset=100, limit=len(part)) == (_sha(part), len(part))
    assert (tmp_path / "dst").read_bytes() == part


@pytest.mark.parametrize("code", [errno.EXDEV, errno.ENOSYS, errno.EINVAL])
def test_without_kernel_copy_it_copies_in_user_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     code: int) -> None:
    def refuse(*args: Any) -> int:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "copy_file_range", refuse)
    data = os.urandom(BIG)
    (tmp_path / "src").write_bytes(data)
    assert _copy(tmp_path / "src", tmp_path / "dst") == (_sha(data), BIG)
    assert (tmp_path / "dst").read_bytes() == data


def test_a_copy_error_stores_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.copy_file_range
    calls = [0]

    def failing(*args: Any) -> int:
        calls[0] += 1
        if calls[0] > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args)

    monkeypatch.setattr(os, "copy_file_range", failing)
    (tmp_path / "src").write_bytes(os.urandom(BIG))
    store = BlobStore(tmp_path / "reg")
    with pytest.raises(OSError, match="No space left"), open(tmp_path / "src", "rb") as fh:
        store.ingest(fh)
    assert list(store.digests()) == []
    assert store.strays() == []  # the temp file is gone too


def test_a_source_changing_during_the_copy_still_gives_a_correctly_named_blob(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "src"
    src.write_bytes(b"a" * BIG)
    real = os.copy_file_range

    def racing(*args: Any) -> int:
        n = real(*args)
        with open(src, "r+b") as fh:  # another program rewrites the file under us
            fh.write(b"b" * BIG)
        return n

    monkeypatch.setattr(os, "copy_file_range", racing)
    store = BlobStore(tmp_path / "reg")
    with open(src, "rb") as fh:
        digest, size = store.ingest(fh)
    stored = store.path(digest).read_bytes()
    assert stored != b"a" * BIG  # the copy mixes both versions...
    assert (hash_blob(store.path(digest)), len(stored)) == (digest, size)  # ...and is named by what it holds


def test_put_of_a_regular_file_checks_size_and_digest(tmp_path: Path) -> None:
    data = os.urandom(BIG)
    (tmp_path / "src").write_bytes(data)
    store = BlobStore(tmp_path / "reg")
    with open(tmp_path / "src", "rb") as fh, pytest.raises(RegistryError, match=f"more than the announced {BIG - 1}"):
        store.put(fh, _sha(data[:-1]), BIG - 1)
    with open(tmp_path / "src", "rb") as fh, pytest.raises(RegistryError, match="hash to"):
        store.put(fh, _sha(b"something else"), BIG)
    assert list(store.digests()) == []
    with open(tmp_path / "src", "rb") as fh:
        assert store.put(fh, _sha(data), BIG) is True
    assert hash_blob(store.path(_sha(data))) == _sha(data)


def test_writeback_is_started_for_each_hashed_stretch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stretches: list[tuple[int, int]] = []
    monkeypatch.setattr(filecopy, "start_writeback", lambda fd, offset, length: stretches.append((offset, length)))
    (tmp_path / "src").write_bytes(os.urandom(BIG))
    _copy(tmp_path / "src", tmp_path / "dst")
    assert stretches and stretches[0][0] == 0
    assert all(a + n == b for (a, n), (b, _) in zip(stretches, stretches[1:], strict=False))  # contiguous
    assert all(n >= STEP for _, n in stretches)
