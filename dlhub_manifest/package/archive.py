"""Deterministic DLHub-style servable zip: `dlhub.json` plus the selected files, streamed, written atomically.

Same inputs, same bytes: entries are sorted, every timestamp is 1980-01-01 00:00:00, attributes come from the
0o644/0o755 mode only, and the compression of each file depends only on its content. (The bytes can differ
between Python/zlib builds; the zip's contents and file hashes cannot.)
"""

from __future__ import annotations

import glob
import hashlib
import os
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from dlhub_manifest.errors import DLHubManifestError, InvalidManifestError
from dlhub_manifest.manifest.load import load_file, resolve_manifest_path
from dlhub_manifest.manifest.paths import PathProblem, resolve_inside
from dlhub_manifest.package.select import CHUNK, FileEntry, Progress, hash_file, scan, select_files
from dlhub_manifest.util.fsutil import atomic_writer
from dlhub_manifest.util.outputs import check_output_file, writing

DOCUMENT_NAME = "dlhub.json"
DEFAULT_ZIP_NAME = "servable.zip"  # what `package` writes without -o
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
COMPRESS_LEVEL = 6
# Files whose first MiB deflates to more than this fraction are stored: compressing random weights costs
# ~20x the time of copying them and saves nothing. The test looks only at content, so it stays deterministic.
STORE_RATIO = 0.95
_UNIX = 3
_S_IFREG = 0o100000


class PackageError(DLHubManifestError):
    """The zip could not be written as asked; the message says what to change."""


def write_zip(project: Path, entries: Iterable[FileEntry], document_bytes: bytes, out_path: Path, *,
              progress: Progress | None = None) -> tuple[str, int]:
    """Write `dlhub.json` and `entries` (read from `project`) to `out_path` atomically; return (sha256, size).

    Each file is re-hashed while it is copied, so a file changed since it was scanned fails the write.
    """
    ordered = _ordered(entries)
    total, done = sum(e.size for e in ordered), 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    root = project.resolve()
    with atomic_writer(out_path) as fh:
        with zipfile.ZipFile(fh, "w", allowZip64=True) as zf:
            with zf.open(_info(DOCUMENT_NAME, len(document_bytes), 0o644, zipfile.ZIP_DEFLATED), "w") as dest:
                dest.write(document_bytes)
            for entry in ordered:
                _add_file(zf, root, entry, tick)
        fh.flush()
        return _hash_fd(fh.fileno())


def _ordered(entries: Iterable[FileEntry]) -> list[FileEntry]:
    ordered = sorted(entries, key=lambda e: e.path)
    paths = [e.path for e in ordered]
    if DOCUMENT_NAME in paths:
        raise PackageError(f"the project has its own {DOCUMENT_NAME}, which would clash with the generated "
                           "document; leave it out of `files` or rename it")
    if len(set(paths)) != len(paths):
        raise PackageError("the same path is listed twice in the files to package; pass each file once")
    return ordered


def _info(name: str, size: int, mode: int, compression: int) -> zipfile.ZipInfo:
    """A ZipInfo that carries nothing from the machine: fixed time, Unix attributes from `mode` only."""
    info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
    info.create_system = _UNIX
    info.external_attr = (_S_IFREG | mode) << 16
    info.compress_type = compression
    info.file_size = size  # lets zipfile choose ZIP64 headers up front for big files
    # `_compresslevel` became `compress_level` in Python 3.13 (ZipInfo has __slots__, so pick the one it has).
    setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", COMPRESS_LEVEL)
    return info


def _add_file(zf: zipfile.ZipFile, root: Path, entry: FileEntry, tick: Callable[[int], None]) -> None:
    try:
        source = resolve_inside(root, entry.path, "file")
    except PathProblem as e:
        raise PackageError(f"cannot package {entry.path!r}: {e.message}") from e
    info = _info(entry.path, entry.size, entry.mode, _compression(source, entry.size))
    with zf.open(info, "w") as dest:
        digest, size = hash_file(source, sink=dest.write, progress=tick)
    if (digest, size) != (entry.sha256, entry.size):
        raise PackageError(f"{entry.path!r} changed while it was being packaged; run the command again "
                           "once nothing is writing to the project")


def _compression(path: Path, size: int) -> int:
    """ZIP_DEFLATED, unless the file's first MiB shows it is already compressed or random."""
    if size < CHUNK:
        return zipfile.ZIP_DEFLATED
    import zlib

    with open(path, "rb") as fh:
        sample = fh.read(CHUNK)
    ratio = len(zlib.compress(sample, 1)) / max(len(sample), 1)
    return zipfile.ZIP_STORED if ratio > STORE_RATIO else zipfile.ZIP_DEFLATED


def _hash_fd(fd: int) -> tuple[str, int]:
    """sha256 and size of an open file, read with pread so the writer's position does not matter."""
    digest = hashlib.sha256()
    offset = 0
    while chunk := os.pread(fd, CHUNK, offset):
        digest.update(chunk)
        offset += len(chunk)
    return digest.hexdigest(), offset


def package(path: str | Path, out: str | Path, *, inspect: bool = True,
            progress: Progress | None = None) -> tuple[str, int]:
    """Validate and build the manifest at `path`, select and hash its files, and write the servable zip.

    An unusable `out` (a device, a link, a folder that cannot be written) is refused before any work.
    """
    from dlhub_manifest.build import build_document, dumps

    check_output_file(out)
    manifest = resolve_manifest_path(path)
    doc, problems = load_file(manifest)
    if doc is None:
        raise InvalidManifestError(problems)
    project = doc.project_dir
    # A dlhub.json left by `build` is replaced by the fresh document; the zip being written never packs itself.
    leave_out = [DOCUMENT_NAME, *_inside(project, Path(out))]
    document = build_document(doc, inspect=inspect, leave_out=leave_out)
    rels = select_files(project, doc.data, manifest_name=manifest.name, leave_out=leave_out)
    entries = scan(project, rels)
    with writing(out):
        return write_zip(project, entries, dumps(document), Path(out), progress=progress)


def _inside(project: Path, out: Path) -> list[str]:
    """The output zip's path relative to the project (glob-escaped) when it is written inside it."""
    try:
        return [glob.escape(out.resolve().relative_to(project).as_posix())]
    except ValueError:
        return []
