"""A published version's files, fetched from the registry's blob store into the user's cache, verified.

The cache folder is `<cache dir>/servables/<content digest>/` (the digest names the document and every file's
hash, so a folder never needs updating); files are written read-only, each checked against its sha256 while it
is downloaded, and the folder appears only complete (built beside it, then renamed). A folder found again is
reused when its completion mark is there and every file has its indexed size.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from dlhub_manifest.errors import RegistryError
from dlhub_manifest.registry.contracts import FileRecord, ServableInfo
from dlhub_manifest.targets.base import Target
from dlhub_manifest.util.locations import cache_dir

COMPLETE = ".complete"


def fetch_files(target: Target, version: ServableInfo) -> Path:
    """The folder holding the files of `version` (a `get_servable` answer), fetched on first use."""
    digest = str(version["content_digest"]).replace(":", "-")
    folder = cache_dir() / "servables" / digest
    if _complete(folder, version["files"]):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetch-", dir=folder.parent))
    try:
        for entry in version["files"]:
            _fetch_one(target, staging, entry)
        (staging / COMPLETE).write_text(version["servable"] + "@" + version["version"] + "\n", encoding="utf-8")
        if folder.exists():  # an incomplete leftover (or a concurrent fetch that already finished)
            if _complete(folder, version["files"]):
                return folder
            shutil.rmtree(folder)
        try:
            os.replace(staging, folder)
        except OSError:
            if not _complete(folder, version["files"]):  # not a concurrent fetch that finished first
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return folder


def _complete(folder: Path, files: list[FileRecord]) -> bool:
    try:
        return (folder / COMPLETE).is_file() and all(
            (folder / f["path"]).stat().st_size == f["size"] for f in files)
    except OSError:
        return False


def _fetch_one(target: Target, staging: Path, entry: FileRecord) -> None:
    rel = PurePosixPath(entry["path"])
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise RegistryError(f"the registry's file index names {entry['path']!r}, which is not a relative path")
    dest = staging.joinpath(*rel.parts)
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as fh:
        checked = _Hashing(fh)
        target.download_blob(entry["sha256"], checked)  # type: ignore[arg-type]
    if checked.sha256.hexdigest() != entry["sha256"] or checked.size != entry["size"]:
        raise RegistryError(f"{entry['path']}: the downloaded bytes do not match the published sha256 "
                            f"{entry['sha256']} ({checked.size} bytes for {entry['size']}); try again")
    os.chmod(dest, 0o555 if int(entry["mode"]) & 0o111 else 0o444)


class _Hashing:
    """A writable file that hashes and counts what goes through it."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self.out.write(data)
