"""Faults between client and server (503, dropped connections, stalls): the client retries or resumes and
the registry ends with exactly one publication."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_server import TOKENS, FaultProxy, Server, running_server

from dlhub_manifest.credentials.login import Credentials, bearer_authorizer
from dlhub_manifest.credentials.userconfig import TargetConfig
from dlhub_manifest.publish.files import prepare_files, submit, wait_for_task
from dlhub_manifest.targets.http import HttpTarget

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sklearn"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    with running_server(tmp_path) as srv:
        yield srv


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(tmp_path / "cache"))
    return Path(shutil.copytree(EXAMPLE, tmp_path / "project"))


def through(proxy: FaultProxy, timeout: float | None = None) -> HttpTarget:
    creds = Credentials(bearer_authorizer(TOKENS["alice"]), "test token")
    return HttpTarget(TargetConfig(proxy.url), credentials=creds, timeout=timeout, sleep=lambda s: None)


def publications(server: Server) -> list[tuple[str, str]]:
    with sqlite3.connect(server.root / "registry.sqlite3") as conn:
        tasks = conn.execute("select id, status from tasks").fetchall()
    return [(str(i), str(s)) for i, s in tasks]


def publish_through(server: Server, project: Path, plan: list[tuple[str, str, str]],
                    timeout: float | None = None) -> tuple[FaultProxy, dict[str, object]]:
    proxy = FaultProxy(server.url, plan=list(plan))
    try:
        target = through(proxy, timeout)
        task_id = submit(target, prepare_files(project, inspect=False))
        status = wait_for_task(target, task_id, timeout=60)
    finally:
        proxy.close()
    assert proxy.plan == [], "every planned fault was injected"
    return proxy, status


def versions(server: Server, project: Path) -> list[str]:
    creds = Credentials(bearer_authorizer(TOKENS["alice"]), "test token")
    found = HttpTarget(TargetConfig(server.url), credentials=creds).get_servable("alice", "iris-classifier")
    return list(found["versions"])  # type: ignore[arg-type]


@pytest.mark.parametrize("fault", ["503", "cut"])
def test_publication_request_fault_is_retried_once_and_publishes_once(server: Server, project: Path,
                                                                      fault: str) -> None:
    proxy, status = publish_through(server, project, [("POST", "/publications", fault)])
    assert status["status"] == "succeeded", status
    posts = proxy.requests_to("POST", "/publications")
    assert [p.action for p in posts] == [fault, "pass"]
    assert posts[0].headers["idempotency-key"] == posts[1].headers["idempotency-key"]
    assert len(publications(server)) == 1
    assert len(versions(server, project)) == 1


def test_stalled_answer_times_out_and_the_retry_returns_the_same_task(server: Server, project: Path) -> None:
    proxy, status = publish_through(server, project, [("POST", "/publications", "stall:4")], timeout=1.5)
    assert status["status"] == "succeeded", status
    assert [p.action for p in proxy.requests_to("POST", "/publications")] == ["stall:4", "pass"]
    assert len(publications(server)) == 1


def test_every_fault_at_once_still_one_publication(server: Server, project: Path) -> None:
    model = project / "model.pkl"
    model.write_bytes(model.read_bytes() + b"\0" * 3_000_000)
    big = f"/blobs/{hashlib.sha256(model.read_bytes()).hexdigest()}"
    plan = [("POST", "/blobs/missing", "503"), ("PUT", big, "drop:1000000"), ("POST", "/publications", "cut"),
            ("GET", "/tasks/", "503")]
    proxy, status = publish_through(server, project, plan)
    assert status["status"] == "succeeded", status
    puts = proxy.requests_to("PUT", big)
    assert [p.action for p in puts] == ["drop:1000000", "pass"]
    assert puts[-1].headers["content-range"].startswith("bytes 1000000-")
    assert len(publications(server)) == 1
    assert len(versions(server, project)) == 1
