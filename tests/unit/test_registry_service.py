"""RegistryService end to end in-process: register, immutability, versions, look-up, visibility, check."""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from publish_support import make_project

from dlhub_manifest.errors import NotFoundError, UsageError
from dlhub_manifest.publish.files import prepare_files, submit
from dlhub_manifest.registry.check import CheckReport, check_registry
from dlhub_manifest.registry.document import content_digest
from dlhub_manifest.registry.service import Identity, RegistryService
from dlhub_manifest.registry.worker import run_worker
from dlhub_manifest.targets.local import LocalTarget

ALICE = Identity("local:alice", "alice")
BOB = Identity("local:bob", "bob")


class InProcessTarget(LocalTarget):
    """The local target with the worker run in this process right after submitting (no subprocess), on the
    records in `database` (None: the folder's SQLite file)."""

    def __init__(self, root: Path, identity: Identity, database: str | None = None) -> None:
        super().__init__(root, identity)
        self.database = database
        self.service = RegistryService(root, database=database)

    def publish(self, request: dict[str, Any]) -> str:
        task_id = self.service.publish(self.identity, request)
        run_worker(self.root, idle=0, database=self.database)
        return task_id

    def check(self) -> CheckReport:
        return check_registry(self.root, database=self.database)

    def execute(self, sql: str, *params: object) -> list[Any]:
        """Run SQL on the records directly (what someone editing the database by hand would do)."""
        if self.database is None:
            with contextlib.closing(sqlite3.connect(self.root / "registry.sqlite3")) as conn, conn:
                return conn.execute(sql, params).fetchall()
        import psycopg

        with psycopg.connect(self.database, autocommit=True) as pg:
            cur = pg.execute(sql.replace("?", "%s"), params)
            return cur.fetchall() if cur.description else []


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture
def target(tmp_path: Path, database: str | None) -> Iterator[InProcessTarget]:
    target = InProcessTarget(tmp_path / "registry", ALICE, database)
    yield target
    target.service.close()


def publish(target: LocalTarget, project: Path) -> dict[str, Any]:
    task_id = submit(target, prepare_files(project, inspect=False))
    return target.task(task_id)


def test_first_publish_registers_version_with_registry_fields(target: InProcessTarget, tmp_path: Path) -> None:
    status = publish(target, make_project(tmp_path / "p"))
    assert status["status"] == "succeeded", status["messages"]
    assert status["result"]["version"] == "0.1.0" and status["result"]["already_published"] is False
    found = target.get_servable("alice", "demo")
    dlhub = found["document"]["dlhub"]
    assert (dlhub["owner"], dlhub["version"], found["document"]["datacite"]["version"]) == ("alice", "0.1.0", "0.1.0")
    assert isinstance(dlhub["publication_date"], int) and len(dlhub["id"]) == 36
    assert found["document"]["datacite"]["publicationYear"].isdigit()
    assert [f["path"] for f in found["files"]] == ["demo.py", "dlhub.yaml", "weights.bin"]
    assert found["provenance"]["source"] == "files" and found["provenance"]["published_by"] == "local:alice"
    assert target.check().ok


def test_same_content_again_is_already_published(target: InProcessTarget, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    first = publish(target, project)
    again = publish(target, project)
    assert again["status"] == "succeeded"
    assert again["result"]["already_published"] is True and again["result"]["version"] == "0.1.0"
    assert "already published" in again["messages"][-1]["text"]
    assert target.get_servable("alice", "demo")["versions"] == ["0.1.0"]
    assert again["result"]["content_digest"] == first["result"]["content_digest"]


def test_changed_content_gets_the_next_patch_and_stores_only_the_change(target: InProcessTarget,
                                                                         tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", weights=b"A" * 10_000)
    publish(target, project)
    blobs_before = set(target.service.blobs.digests())
    (project / "demo.py").write_text("def run(x):\n    return [3 * v for v in x]\n", encoding="utf-8")
    status = publish(target, project)
    assert status["result"]["version"] == "0.1.1"
    assert len(set(target.service.blobs.digests()) - blobs_before) == 1  # only demo.py is new
    assert target.get_servable("alice", "demo")["versions"] == ["0.1.0", "0.1.1"]
    assert target.get_servable("alice", "demo", "0.1.0")["version"] == "0.1.0"


def test_same_version_with_different_content_fails_with_a_bump_hint(target: InProcessTarget,
                                                                     tmp_path: Path) -> None:
    project = make_project(tmp_path / "p", version="1.0.0")
    publish(target, project)
    (project / "weights.bin").write_bytes(b"retrained")
    status = publish(target, project)
    assert status["status"] == "failed"
    text = status["messages"][-1]["text"]
    assert "alice/demo@1.0.0 is already published with different content" in text
    assert "weights.bin" in text and "1.0.1" in text
    stored = {f["path"]: f["sha256"] for f in target.get_servable("alice", "demo")["files"]}
    assert stored["weights.bin"] == _sha(b"weights v1\n")  # the published version did not change
    assert target.check().ok


def test_missing_blob_fails_the_task_and_registers_nothing(target: InProcessTarget, tmp_path: Path) -> None:
    prepared = prepare_files(make_project(tmp_path / "p"), inspect=False)
    task_id = target.publish(prepared.request())  # submitted without uploading the files
    status = target.task(task_id)
    assert status["status"] == "failed"
    assert "was never uploaded" in status["messages"][-1]["text"]
    assert "publish again" in status["messages"][-1]["text"]
    assert target.list_servables() == []


def test_invalid_document_fails_with_the_problem(target: InProcessTarget, tmp_path: Path) -> None:
    prepared = prepare_files(make_project(tmp_path / "p"), inspect=False)
    del prepared.document["servable"]
    status = target.task(submit(target, prepared))
    assert status["status"] == "failed"
    assert "servable document is not valid" in status["messages"][-1]["text"]


def test_malformed_requests_are_refused_before_queueing(target: InProcessTarget) -> None:
    bad = [{}, {"document": {"dlhub": {"name": "Bad Name"}}, "files": []},
           {"document": {"dlhub": {"name": "ok"}}, "files": [{"path": "../x", "sha256": "0" * 64, "size": 1}]},
           {"document": {"dlhub": {"name": "ok"}}, "repository": {"url": "x", "commit": "abc"}},
           {"document": {"dlhub": {"name": "ok"}}, "files": [], "version": "one"}]
    for request in bad:
        with pytest.raises(UsageError):
            target.service.publish(ALICE, request)
    assert not target.service.records.exists() or target.service.queue.pending() == 0


def test_private_servables_are_invisible_to_others(target: InProcessTarget, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    with (project / "dlhub.yaml").open("a", encoding="utf-8") as fh:
        fh.write("visible_to: ['urn:globus:groups:id:fdb38a24-03c1-11e3-86f7-12313809f035']\n")
    publish(target, project)
    service = target.service
    assert [s["servable"] for s in service.list_servables(ALICE)] == ["alice/demo"]
    assert service.list_servables(BOB) == []
    with pytest.raises(NotFoundError, match="alice/demo is not in the registry"):
        service.get_servable(BOB, "alice", "demo")
    member = Identity("local:carol", "carol", ("urn:globus:groups:id:fdb38a24-03c1-11e3-86f7-12313809f035",))
    assert service.get_servable(member, "alice", "demo")["version"] == "0.1.0"


def test_task_is_visible_only_to_its_submitter(target: InProcessTarget, tmp_path: Path) -> None:
    task_id = publish(target, make_project(tmp_path / "p"))["task_id"]
    with pytest.raises(NotFoundError):
        target.service.task(BOB, task_id)


def test_search_matches_every_word_in_latest_metadata(target: InProcessTarget, tmp_path: Path) -> None:
    publish(target, make_project(tmp_path / "a", name="alpha", title="Band gap regressor"))
    publish(target, make_project(tmp_path / "b", name="beta", title="Iris classifier"))
    assert [s["servable"] for s in target.search("band GAP")] == ["alice/alpha"]
    assert [s["servable"] for s in target.search("ward doubling")] == ["alice/alpha", "alice/beta"]
    assert target.search("band iris") == []


def test_registry_check_finds_corrupt_missing_and_orphan_blobs(target: InProcessTarget, tmp_path: Path) -> None:
    publish(target, make_project(tmp_path / "p"))
    blobs = target.service.blobs
    orphan = target.service.put_blob(io.BytesIO(b"orphan"), _sha(b"orphan"), 6)
    assert orphan is True
    report = target.check()
    assert report.ok and report.orphans == [_sha(b"orphan")]
    found = target.get_servable("alice", "demo")["files"]
    corrupt, missing = found[0]["sha256"], found[1]["sha256"]
    blobs.path(corrupt).chmod(0o644)
    blobs.path(corrupt).write_bytes(b"bit rot")
    blobs.path(missing).unlink()
    report = target.check()
    assert not report.ok
    assert any(corrupt in e and "corrupt" in e for e in report.errors)
    assert any(missing in e and "missing" in e and "alice/demo@0.1.0" in e for e in report.errors)


def test_registry_check_detects_a_document_edited_by_hand(target: InProcessTarget, tmp_path: Path) -> None:
    publish(target, make_project(tmp_path / "p"))
    row = target.execute("SELECT id, document FROM versions")[0]
    doc = json.loads(row[1])
    doc["datacite"]["titles"][0]["title"] = "Edited"
    target.execute("UPDATE versions SET document = ? WHERE id = ?", json.dumps(doc), row[0])
    assert any("content digest does not match" in e for e in target.check().errors)


def test_content_digest_ignores_registry_fields_and_provenance() -> None:
    files = [{"path": "a", "sha256": "0" * 64, "size": 1, "mode": 0o644}]
    doc = {"dlhub": {"name": "x", "version": "0.0.0"}, "datacite": {"publicationYear": ""}, "provenance": {"a": 1}}
    filled = {"dlhub": {"name": "x", "version": "3.0.0", "owner": "o", "id": "i", "publication_date": 5},
              "datacite": {"publicationYear": "2030", "version": "3.0.0"}, "provenance": {"b": 2}}
    assert content_digest(doc, files) == content_digest(filled, files)
    assert content_digest(doc, files) != content_digest({**doc, "servable": {}}, files)
    assert content_digest(doc, files) != content_digest(doc, [{**files[0], "mode": 0o755}])


def test_read_operations_on_a_missing_registry_create_nothing(tmp_path: Path) -> None:
    target = LocalTarget(tmp_path / "nowhere", ALICE)
    assert target.list_servables() == [] and target.search("x") == []
    with pytest.raises(NotFoundError):
        target.get_servable("alice", "demo")
    with pytest.raises(NotFoundError):
        target.task("nope")
    assert not (tmp_path / "nowhere").exists()


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_repository_credentials_are_refused_before_a_task_exists(target: InProcessTarget, tmp_path: Path) -> None:
    prepared = prepare_files(make_project(tmp_path / "p"), inspect=False)
    commit = "a" * 40
    document = {**prepared.document, "provenance": {"tool": "dlhub-manifest", "commit": commit}}
    with pytest.raises(UsageError, match="carries credentials") as caught:
        target.publish({"document": document, "repository": {
            "url": "https://someone:s3cret@127.0.0.1:9/lab/demo.git", "commit": commit}})
    assert "s3cret" not in str(caught.value)
    assert not (target.root / "registry.sqlite3").exists()  # nothing was queued, nothing was stored


def test_local_identity_is_a_safe_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getuser", lambda: "CORP\\John Doe")
    assert Identity.local() == Identity("local:CORP-John-Doe", "CORP-John-Doe")


def test_a_blob_is_readable_through_a_version_the_caller_can_see(target: InProcessTarget, tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    with (project / "dlhub.yaml").open("a", encoding="utf-8") as fh:
        fh.write("visible_to: ['urn:globus:groups:id:fdb38a24-03c1-11e3-86f7-12313809f035']\n")
    publish(target, project)
    weights = next(f for f in target.get_servable("alice", "demo")["files"] if f["path"] == "weights.bin")
    assert target.service.blob_path(ALICE, weights["sha256"]).read_bytes() == b"weights v1\n"
    with pytest.raises(NotFoundError):
        target.service.blob_path(BOB, weights["sha256"])  # private to a group bob is not in
