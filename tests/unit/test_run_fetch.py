"""Fetching a published version's files: verified by sha256, complete or absent, reused from the cache."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from dlhub_manifest.errors import RegistryError
from dlhub_manifest.run.fetch import fetch_files


class Blobs:
    """Just enough of a Target: blobs by digest, counting downloads."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs
        self.downloads = 0

    def download_blob(self, sha256: str, out: BinaryIO) -> None:
        self.downloads += 1
        out.write(self.blobs[sha256])


def version(files: dict[str, bytes], digest: str = "sha256:" + "ab" * 32) -> dict[str, Any]:
    entries = [{"path": p, "sha256": hashlib.sha256(b).hexdigest(), "size": len(b), "mode": 0o644}
               for p, b in files.items()]
    return {"servable": "alice/x", "version": "1.0.0", "content_digest": digest, "files": entries}


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(tmp_path / "cache"))


def test_files_are_fetched_once_then_reused_read_only() -> None:
    files = {"model.pkl": b"weights", "pkg/mod.py": b"x = 1\n"}
    target = Blobs({hashlib.sha256(b).hexdigest(): b for b in files.values()})
    folder = fetch_files(target, version(files))  # type: ignore[arg-type]
    assert (folder / "pkg" / "mod.py").read_bytes() == b"x = 1\n"
    assert (folder / "model.pkl").stat().st_mode & 0o777 == 0o444
    assert fetch_files(target, version(files)) == folder  # type: ignore[arg-type]
    assert target.downloads == 2


def test_bytes_that_do_not_match_the_index_are_refused_and_nothing_is_kept(tmp_path: Path) -> None:
    files = {"model.pkl": b"weights"}
    target = Blobs({hashlib.sha256(b"weights").hexdigest(): b"tampered"})
    with pytest.raises(RegistryError, match="do not match the published sha256"):
        fetch_files(target, version(files))  # type: ignore[arg-type]
    assert list((tmp_path / "cache" / "servables").iterdir()) == []


def test_an_index_path_outside_the_folder_is_refused() -> None:
    files = {"../escape.py": b"x"}
    target = Blobs({hashlib.sha256(b"x").hexdigest(): b"x"})
    with pytest.raises(RegistryError, match="not a relative path"):
        fetch_files(target, version(files))  # type: ignore[arg-type]
