"""Client-side publication: file hashing with the cache, dry-run plans, metadata diffs."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from publish_support import make_project

from dlhub_manifest.errors import InvalidManifestError
from dlhub_manifest.package.select import FileEntry
from dlhub_manifest.publish.files import Progress, hash_files, prepare_files, submit, upload_missing
from dlhub_manifest.publish.plan import diff_documents, make_plan
from dlhub_manifest.registry.service import Identity
from dlhub_manifest.registry.worker import run_worker
from dlhub_manifest.targets.local import LocalTarget

ALICE = Identity("local:alice", "alice")
OLD = 1_000_000_000  # a modification time long before any hashing


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(tmp_path / "cache"))


class Recorder(Progress):
    def __init__(self) -> None:
        self.stages: list[str] = []
        self.bytes = 0

    def stage(self, text: str) -> None:
        self.stages.append(text)

    def advance(self, n: int) -> None:
        self.bytes += n


class InProcessTarget(LocalTarget):
    def publish(self, request: dict[str, Any]) -> str:
        task_id = self.service.publish(self.identity, request)
        run_worker(self.root, idle=0)
        return task_id


def aged(path: Path) -> Path:
    os.utime(path, (OLD, OLD))
    return path


def test_hash_files_streams_and_reports_progress(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", weights=b"w" * 5000)
    progress = Recorder()
    entries = hash_files(project, ["weights.bin", "demo.py"], progress)
    assert [e.path for e in entries] == ["demo.py", "weights.bin"]
    assert entries[1] == FileEntry("weights.bin", 5000, hashlib.sha256(b"w" * 5000).hexdigest(), 0o644)
    assert progress.bytes == 5000 + (project / "demo.py").stat().st_size


def test_unchanged_files_come_from_the_cache(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    aged(project / "weights.bin")
    hash_files(project, ["weights.bin"], Recorder())
    again = Recorder()
    entries = hash_files(project, ["weights.bin"], again)
    assert again.bytes == 0 and "hashing 0 file(s) of 1; 1 unchanged" in again.stages[0]
    assert entries[0].sha256 == hashlib.sha256(b"weights v1\n").hexdigest()


def test_a_rewrite_with_the_same_size_and_mtime_is_still_rehashed(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    aged(project / "weights.bin")
    hash_files(project, ["weights.bin"], Recorder())
    (project / "weights.bin").write_bytes(b"weights v2\n")  # same size
    aged(project / "weights.bin")  # same mtime; ctime still moves
    entries = hash_files(project, ["weights.bin"], Recorder())
    assert entries[0].sha256 == hashlib.sha256(b"weights v2\n").hexdigest()


def test_recently_modified_files_are_not_cached(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")  # written just now: inside the racy window
    hash_files(project, ["weights.bin"], Recorder())
    again = Recorder()
    hash_files(project, ["weights.bin"], again)
    assert again.bytes == (project / "weights.bin").stat().st_size


def test_a_broken_cache_file_is_ignored(tmp_path: Path) -> None:
    junk = b"not a database" * 100
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "hashes.sqlite3").write_bytes(junk)
    project = make_project(tmp_path / "p")
    aged(project / "weights.bin")
    for _ in range(2):
        entries = hash_files(project, ["weights.bin"], Recorder())
        assert entries[0].sha256 == hashlib.sha256(b"weights v1\n").hexdigest()
    assert (tmp_path / "cache" / "hashes.sqlite3").read_bytes() == junk


def test_prepare_files_builds_and_selects(tmp_path: Path) -> None:
    prepared = prepare_files(make_project(tmp_path / "p", version="2.0.0"), inspect=False)
    assert prepared.name == "demo" and prepared.version == "2.0.0" and prepared.version_source == "manifest"
    assert [f.path for f in prepared.files] == ["demo.py", "dlhub.yaml", "weights.bin"]
    request = prepared.request()
    assert request["version"] == "2.0.0" and len(request["files"]) == 3 and request["idempotency_key"]


def test_prepare_files_reports_every_manifest_problem(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    (project / "weights.bin").unlink()
    with pytest.raises(InvalidManifestError, match="weights.bin"):
        prepare_files(project, inspect=False)


def test_dry_run_plan_marks_new_files_and_diffs_metadata(tmp_path: Path) -> None:
    target = InProcessTarget(tmp_path / "registry", ALICE)
    project = make_project(tmp_path / "p")
    first = make_plan(target, prepare_files(project, inspect=False))
    assert (first.version, first.version_source, first.outcome) == ("0.1.0", "first version", "publish")
    assert all(f.new for f in first.files) and first.latest is None
    assert not (tmp_path / "registry").exists()  # a plan writes nothing
    submit(target, prepare_files(project, inspect=False))
    (project / "dlhub.yaml").write_text((project / "dlhub.yaml").read_text().replace("Demo servable", "Demo v2"))
    plan = make_plan(target, prepare_files(project, inspect=False))
    assert (plan.version, plan.version_source, plan.latest) == ("0.1.1", "next patch", "0.1.0")
    assert [f.path for f in plan.files if f.new] == ["dlhub.yaml"]
    assert plan.new_bytes == (project / "dlhub.yaml").stat().st_size
    assert [(c.field, c.old, c.new) for c in plan.changes] == [
        ("datacite.titles[0].title", "Demo servable", "Demo v2")]


def test_dry_run_plan_foresees_already_published_and_conflicts(tmp_path: Path) -> None:
    target = InProcessTarget(tmp_path / "registry", ALICE)
    project = make_project(tmp_path / "p", version="1.0.0")
    submit(target, prepare_files(project, inspect=False))
    same = make_plan(target, prepare_files(project, inspect=False))
    assert same.outcome == "already published" and same.changes == []
    (project / "weights.bin").write_bytes(b"other weights")
    clash = make_plan(target, prepare_files(project, inspect=False))
    assert clash.outcome == "conflict" and "1.0.1" in clash.message


def test_diff_documents_ignores_registry_fields() -> None:
    old = {"dlhub": {"name": "x", "version": "1.0.0", "owner": "a"}, "datacite": {"subjects": [{"subject": "a"}]}}
    new = {"dlhub": {"name": "x", "version": "0.0.0"}, "datacite": {"subjects": [{"subject": "b"}]},
           "provenance": {"commit": "abc"}}
    changes = diff_documents(old, new)
    assert [(c.field, c.old, c.new) for c in changes] == [("datacite.subjects[0].subject", "a", "b")]


def test_a_list_that_gains_or_loses_its_entries_is_not_also_shown_removed_or_added() -> None:
    empty = {"datacite": {"relatedIdentifiers": [], "creators": [{"creatorName": "A"}]}, "servable": {"methods": {}}}
    full = {"datacite": {"relatedIdentifiers": [{"relatedIdentifier": "10.1/x"}], "creators": [{"creatorName": "A"}]},
            "servable": {"methods": {"run": {"input": "x"}}}}
    gained = [(c.field, c.old, c.new) for c in diff_documents(empty, full)]
    assert gained == [("datacite.relatedIdentifiers[0].relatedIdentifier", None, "10.1/x"),
                      ("servable.methods.run.input", None, "x")]
    lost = [(c.field, c.old, c.new) for c in diff_documents(full, empty)]
    assert lost == [(field, new, old) for field, old, new in gained]
    dropped = {"datacite": {"creators": [{"creatorName": "A"}]}, "servable": {"methods": {}}}
    assert [(c.field, c.old) for c in diff_documents(empty, dropped)] == [("datacite.relatedIdentifiers", [])]


def test_a_local_target_stores_new_files_while_they_are_hashed(tmp_path: Path) -> None:
    target = InProcessTarget(tmp_path / "registry", ALICE)
    prepared = prepare_files(make_project(tmp_path / "p", weights=b"x" * 100_000), inspect=False, target=target)
    assert set(target.service.blobs.digests()) == {f.sha256 for f in prepared.files}
    progress = Recorder()
    assert upload_missing(target, prepared, progress) == 0
    assert progress.stages == []  # they were just stored: "nothing to upload" would contradict that


def test_nothing_to_upload_is_said_when_the_files_were_only_hashed(tmp_path: Path) -> None:
    target = InProcessTarget(tmp_path / "registry", ALICE)
    project = make_project(tmp_path / "p")
    prepare_files(project, inspect=False, target=target)
    prepared = prepare_files(project, inspect=False)  # hashed only: a dry run, or a target elsewhere
    progress = Recorder()
    assert upload_missing(target, prepared, progress) == 0
    assert progress.stages == ["nothing to upload: the registry holds all 3 file(s)"]
