"""`registry migrate`: a folder registry copied to a registry whose blobs are in S3 (a real moto server), every
hash verified, resumable after an interruption, and the same servables, versions and tasks on the other side."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from publish_support import InProcessTarget, make_project
from services.s3 import S3

from dlhub_manifest.errors import UsageError
from dlhub_manifest.publish.files import prepare_files, submit
from dlhub_manifest.registry.blobs import FolderBlobStore
from dlhub_manifest.registry.blobstore import BlobStoreConfig, open_blob_store
from dlhub_manifest.registry.check import check_registry
from dlhub_manifest.registry.migrate import Location, migrate
from dlhub_manifest.registry.s3blobs import S3BlobStore
from dlhub_manifest.registry.service import Identity, RegistryService

ALICE = Identity("local:alice", "alice")


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder registry with two servables, three versions, a task per publication and a 3 MiB blob."""
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(tmp_path / "cache"))
    target = InProcessTarget(tmp_path / "source", ALICE)
    for name, weights in [("one", b"1" * 100), ("one", b"2" * 100), ("two", os.urandom(3 << 20))]:
        project = make_project(tmp_path / f"p-{name}", name=name, weights=weights)
        status = target.task(submit(target, prepare_files(project, inspect=False)))
        assert status["status"] == "succeeded", status
    return target.root


def snapshot(root: Path) -> dict[str, Any]:
    """Everything a user could notice: versions with documents and file indexes, and tasks (none: no database)."""
    if not (root / "registry.sqlite3").exists():
        return {"versions": [], "tasks": []}
    conn = sqlite3.connect(root / "registry.sqlite3")
    try:
        versions = conn.execute("SELECT s.owner, s.name, s.uuid, v.version, v.document, v.content_digest, "
                                "v.task_id, (SELECT json_group_array(f.path || ':' || f.sha256) FROM version_files f "
                                "WHERE f.version_id = v.id) FROM versions v JOIN servables s ON s.id = v.servable_id "
                                "ORDER BY 1, 2, 4").fetchall()
        tasks = conn.execute("SELECT id, status, result FROM tasks ORDER BY id").fetchall()
    finally:
        conn.close()
    return {"versions": versions, "tasks": tasks}


def to_s3(tmp_path: Path, s3: S3) -> Location:
    return Location(str(tmp_path / "dest"), BlobStoreConfig(s3.url("migrated")))


def test_a_folder_registry_moves_to_s3_blobs_with_every_hash_verified(source: Path, s3: S3, tmp_path: Path) -> None:
    report = migrate(Location(str(source)), to_s3(tmp_path, s3))
    assert report.ok, report.errors
    held = set(FolderBlobStore(source).digests())
    assert (report.blobs_copied, report.blobs_present) == (len(held), 0)
    assert (report.servables, report.versions_added, report.tasks_added) == (2, 3, 3)
    assert {k.rsplit("/", 1)[1] for k in s3.objects("migrated/blobs/")} == held
    assert snapshot(tmp_path / "dest") == snapshot(source)
    dest_blobs = open_blob_store(tmp_path / "dest", BlobStoreConfig(s3.url("migrated")))
    checked = check_registry(tmp_path / "dest", blobs=dest_blobs)  # re-hashes every blob in S3
    assert checked.ok and checked.versions == 3 and checked.blobs == len(held)
    found = RegistryService(tmp_path / "dest", blobs=dest_blobs).get_servable(ALICE, "alice", "one")
    assert found["versions"] == ["0.1.0", "0.1.1"]

    again = migrate(Location(str(source)), to_s3(tmp_path, s3))
    assert (again.blobs_copied, again.blobs_present, again.versions_added, again.tasks_added) == (0, len(held), 0, 0)


def test_an_interrupted_migration_resumes_where_it_stopped(source: Path, s3: S3, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    real_put = S3BlobStore.put
    calls: list[str] = []

    def dies_on_the_third(self: S3BlobStore, stream: Any, sha256: str, size: int, progress: Any = None) -> bool:
        calls.append(sha256)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the operator's Ctrl-C, mid-migration
        return real_put(self, stream, sha256, size, progress)

    monkeypatch.setattr(S3BlobStore, "put", dies_on_the_third)
    monkeypatch.setattr("dlhub_manifest.registry.migrate.PARALLEL_BLOBS", 1)
    with pytest.raises(KeyboardInterrupt):
        migrate(Location(str(source)), to_s3(tmp_path, s3))
    total = len(set(FolderBlobStore(source).digests()))
    copied = len(s3.objects("migrated/blobs/"))  # the two before; a copy already under way may finish too
    assert 2 <= copied < total
    assert snapshot(tmp_path / "dest")["versions"] == []

    monkeypatch.setattr(S3BlobStore, "put", real_put)
    resumed = migrate(Location(str(source)), to_s3(tmp_path, s3))
    assert resumed.ok and (resumed.blobs_present, resumed.blobs_copied) == (copied, total - copied)
    assert snapshot(tmp_path / "dest") == snapshot(source)


def test_a_corrupt_source_blob_is_not_copied_and_no_record_is(source: Path, s3: S3, tmp_path: Path) -> None:
    blobs = FolderBlobStore(source)
    victim = max(blobs.digests(), key=lambda d: blobs.size(d) or 0)  # the 3 MiB weights: a multipart put
    path = blobs.path(victim)
    path.chmod(0o644)
    data = bytearray(path.read_bytes())
    data[1000] ^= 1
    path.write_bytes(bytes(data))
    report = migrate(Location(str(source)), to_s3(tmp_path, s3))
    assert not report.ok and len(report.errors) == 1
    assert report.errors[0].startswith(f"blob {victim}") and "hash" in report.errors[0]
    assert f"migrated/blobs/{victim}" not in s3.objects()
    assert snapshot(tmp_path / "dest")["versions"] == []


def test_the_cli_reports_and_exits_by_outcome(source: Path, s3: S3, tmp_path: Path, run_cli: Any) -> None:
    dest = str(tmp_path / "dest")
    out = run_cli("registry", "migrate", "--from", str(source), "--to", dest, "--blob-store", s3.url("cli"),
                  "--format", "json")
    assert json.loads(out.stdout)["versions_added"] == 3
    checked = run_cli("registry", "check", "--registry", dest, "--blob-store", s3.url("cli"))
    assert "3 version(s)" in checked.stdout and checked.stdout.rstrip().endswith("ok")
    missing = run_cli("registry", "migrate", "--from", str(tmp_path / "nothing"), "--to", dest, expect=1)
    assert "no registry at" in missing.stderr


def test_a_folder_registry_moves_to_postgresql_and_s3_and_back(source: Path, s3: S3, tmp_path: Path,
                                                              postgres_url: str) -> None:
    into_pg = Location(postgres_url, BlobStoreConfig(s3.url("pg")))
    report = migrate(Location(str(source)), into_pg)
    assert report.ok, report.errors
    assert (report.servables, report.versions_added, report.tasks_added) == (2, 3, 3)
    blobs = open_blob_store(tmp_path, BlobStoreConfig(s3.url("pg")))
    service = RegistryService(tmp_path / "pg-registry", database=postgres_url, blobs=blobs)
    assert service.get_servable(ALICE, "alice", "one")["versions"] == ["0.1.0", "0.1.1"]
    assert [s["servable"] for s in service.search(ALICE, "demo")] == ["alice/one", "alice/two"]
    service.close()
    checked = check_registry(tmp_path / "pg-registry", database=postgres_url, blobs=blobs)
    assert checked.ok and checked.versions == 3
    again = migrate(Location(str(source)), into_pg)
    assert (again.blobs_copied, again.versions_added, again.tasks_added) == (0, 0, 0)

    back = migrate(into_pg, Location(str(tmp_path / "back")))
    assert back.ok and back.versions_added == 3
    there, here = snapshot(tmp_path / "back"), snapshot(source)
    assert there["versions"] == here["versions"]
    assert [(i, s, json.loads(r)) for i, s, r in there["tasks"]] == [(i, s, json.loads(r)) for i, s, r in here["tasks"]]


def test_a_postgresql_destination_needs_a_blob_store(source: Path, postgres_url: str) -> None:
    with pytest.raises(UsageError, match="--blob-store"):
        migrate(Location(str(source)), Location(postgres_url))
