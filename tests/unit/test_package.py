"""Deterministic servable zip: layout, attributes, determinism, atomicity, streaming, and `package()`."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from dlhub_manifest.errors import InvalidManifestError
from dlhub_manifest.package.archive import DOCUMENT_NAME, PackageError, package, write_zip
from dlhub_manifest.package.select import FileEntry, scan

DOC = b'{"datacite": {"titles": [{"title": "t"}]}, "dlhub": {"name": "x"}}'


def project_with(tmp_path: Path, files: dict[str, bytes]) -> Path:
    root = tmp_path / "proj"
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = project_with(tmp_path, {"dlhub.yaml": b"name: x\n", "model.pkl": b"\x80" * 5000,
                                   "src/run.sh": b"#!/bin/sh\necho hi\n", "weights.bin": os.urandom(3 << 20)})
    (root / "src" / "run.sh").chmod(0o755)
    return root


def entries(root: Path) -> list[FileEntry]:
    return scan(root, ["weights.bin", "src/run.sh", "model.pkl", "dlhub.yaml"])


def test_zip_layout_document_first_then_sorted_files(proj: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "servable.zip"
    sha, size = write_zip(proj, entries(proj), DOC, out)
    assert (sha, size) == (hashlib.sha256(out.read_bytes()).hexdigest(), out.stat().st_size)
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None
        assert zf.namelist() == [DOCUMENT_NAME, "dlhub.yaml", "model.pkl", "src/run.sh", "weights.bin"]
        assert zf.read(DOCUMENT_NAME) == DOC
        assert json.loads(zf.read(DOCUMENT_NAME))["dlhub"]["name"] == "x"
        for name in ("dlhub.yaml", "model.pkl", "src/run.sh", "weights.bin"):
            assert zf.read(name) == (proj / name).read_bytes()


def test_zip_attributes_carry_nothing_from_the_machine(proj: Path, tmp_path: Path) -> None:
    os.utime(proj / "model.pkl", (1_700_000_000, 1_700_000_000))
    out = tmp_path / "s.zip"
    write_zip(proj, entries(proj), DOC, out)
    with zipfile.ZipFile(out) as zf:
        infos = {i.filename: i for i in zf.infolist()}
    assert {i.date_time for i in infos.values()} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.create_system for i in infos.values()} == {3}
    assert stat.S_IMODE(infos["src/run.sh"].external_attr >> 16) == 0o755
    assert stat.S_IMODE(infos["model.pkl"].external_attr >> 16) == 0o644
    assert all(stat.S_ISREG(i.external_attr >> 16) for i in infos.values())
    assert infos["model.pkl"].compress_type == zipfile.ZIP_DEFLATED
    assert infos["model.pkl"].compress_size < 100            # 5000 identical bytes deflate to almost nothing
    assert infos["weights.bin"].compress_type == zipfile.ZIP_STORED   # random bytes are stored, not deflated


def test_two_runs_give_byte_identical_zips(proj: Path, tmp_path: Path) -> None:
    first = write_zip(proj, entries(proj), DOC, tmp_path / "a.zip")
    os.utime(proj / "dlhub.yaml", (1_000_000_000, 1_000_000_000))  # mtimes must not matter
    (proj / "model.pkl").chmod(0o600)                               # nor permission bits other than execute
    second = write_zip(proj, list(reversed(entries(proj))), DOC, tmp_path / "b.zip")
    assert first == second
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_file_changed_after_scan_fails_and_leaves_no_zip(proj: Path, tmp_path: Path) -> None:
    scanned = entries(proj)
    (proj / "model.pkl").write_bytes(b"changed")
    out = tmp_path / "dist" / "servable.zip"
    with pytest.raises(PackageError, match="'model.pkl' changed while it was being packaged"):
        write_zip(proj, scanned, DOC, out)
    assert list((tmp_path / "dist").iterdir()) == []  # neither the zip nor its temp file


def test_failed_write_keeps_the_previous_zip(proj: Path, tmp_path: Path) -> None:
    out = tmp_path / "servable.zip"
    out.write_bytes(b"previous")
    with pytest.raises(PackageError, match="'missing.txt' does not exist"):
        write_zip(proj, [*entries(proj), FileEntry("missing.txt", 1, "0" * 64, 0o644)], DOC, out)
    assert out.read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj", "servable.zip"]


def test_project_dlhub_json_clashes_with_the_document(proj: Path, tmp_path: Path) -> None:
    (proj / DOCUMENT_NAME).write_text("{}")
    with pytest.raises(PackageError, match="the project has its own dlhub.json"):
        write_zip(proj, scan(proj, [DOCUMENT_NAME]), DOC, tmp_path / "s.zip")


def test_progress_reaches_the_total(proj: Path, tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    scanned = entries(proj)
    write_zip(proj, scanned, DOC, tmp_path / "s.zip", progress=lambda d, t: calls.append((d, t)))
    total = sum(e.size for e in scanned)
    assert calls[-1] == (total, total)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_large_file_is_streamed_in_constant_memory(tmp_path: Path) -> None:
    root = project_with(tmp_path, {})
    root.mkdir(exist_ok=True)
    block = os.urandom(1 << 20)
    with (root / "big.bin").open("wb") as fh:
        for _ in range(40):
            fh.write(block)
    scanned = scan(root, ["big.bin"])
    tracemalloc.start()
    try:
        write_zip(root, scanned, DOC, tmp_path / "big.zip")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 << 20, f"peak {peak} bytes while zipping 40 MiB"
    with zipfile.ZipFile(tmp_path / "big.zip") as zf, zf.open("big.bin") as member:
        assert hashlib.sha256(member.read()).hexdigest() == scanned[0].sha256


# --- package(): load, build, select, scan, write ------------------------------------------------------------

MANIFEST = b"""manifest_version: 1
name: iris
title: Iris species classifier
creators: ["Ward, Logan"]
servable:
  type: sklearn
  options: {model: model.pkl, n_input_columns: 4, classes: [a, b]}
files: ["**/*.py", "*.zip", "*.json"]
"""


def test_package_ships_the_selection_and_the_built_document(tmp_path: Path) -> None:
    root = project_with(tmp_path, {"dlhub.yaml": MANIFEST, "model.pkl": b"not loaded without inspection",
                                   "app.py": b"", "notes.txt": b"", DOCUMENT_NAME: b"{stale}", "extra.zip": b"PK"})
    out = root / "servable.zip"
    package(root, out, inspect=False)
    sha, size = package(root, out, inspect=False)  # the zip inside the project must not pack itself
    assert (sha, size) == (hashlib.sha256(out.read_bytes()).hexdigest(), out.stat().st_size)
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist() == [DOCUMENT_NAME, "app.py", "dlhub.yaml", "extra.zip", "model.pkl"]
        document = json.loads(zf.read(DOCUMENT_NAME))
    assert document["dlhub"]["name"] == "iris"
    assert document["dlhub"]["files"] == {"model": "model.pkl", "other": ["app.py", "extra.zip"]}  # as zipped
    assert document["datacite"]["titles"] == [{"title": "Iris species classifier"}]


def test_package_twice_from_different_places_is_byte_identical(tmp_path: Path) -> None:
    root = project_with(tmp_path, {"dlhub.yaml": MANIFEST.replace(b', "*.zip", "*.json"', b""), "model.pkl": b"m",
                                   "app.py": b"print(1)\n"})
    first = package(root / "dlhub.yaml", tmp_path / "a.zip", inspect=False)
    os.utime(root / "app.py", (1_600_000_000, 1_600_000_000))
    assert package(root, tmp_path / "b.zip", inspect=False) == first
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()


def test_package_refuses_an_invalid_manifest_and_writes_nothing(tmp_path: Path) -> None:
    root = project_with(tmp_path, {"dlhub.yaml": MANIFEST.replace(b"model.pkl,", b"missing.pkl,")})
    with pytest.raises(InvalidManifestError, match="servable.options.model: 'missing.pkl' does not exist"):
        package(root, tmp_path / "s.zip", inspect=False)
    assert not (tmp_path / "s.zip").exists()


def test_deflate_uses_the_fixed_level(tmp_path: Path) -> None:
    text = b"".join(b"line %d of a small code file\n" % (i % 97) for i in range(20000))
    root = project_with(tmp_path, {"code.py": text})
    out = tmp_path / "s.zip"
    write_zip(root, scan(root, ["code.py"]), DOC, out)
    with zipfile.ZipFile(out) as zf:
        info = zf.getinfo("code.py")
    raw = out.read_bytes()
    header = info.header_offset  # local header: 30 fixed bytes, then the name and the extra field
    name_len, extra_len = struct.unpack("<HH", raw[header + 26:header + 30])
    start = header + 30 + name_len + extra_len
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    assert raw[start:start + info.compress_size] == compressor.compress(text) + compressor.flush()
