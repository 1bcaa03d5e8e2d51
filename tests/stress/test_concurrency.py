"""Concurrency: 8 processes × 25 versions each publish to ONE registry, locally and through `serve`.

Every process publishes versions i.j.0 (process i, its j-th publication) of the same servable, the most
contended case: one servables row, one version list, one worker draining 200 tasks queued by 8 writers.
Afterwards the registry holds exactly those 200 versions, each with the bytes its own process uploaded,
200 tasks that all succeeded once, a clean `registry check`, and no output anywhere mentions a locked
database. Counts are the full 8 × 25 on both paths; measured on 2 cores: local 5-7 s, HTTP 10-17 s (one
`serve` with its worker, 8 clients sharing one hash cache; the first upload of the shared demo.py is a race).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from publish_support import make_project
from stress_support import cli_json, kill_registry_processes, serve

from dlhub_manifest.registry.service import Identity, RegistryService

PROCESSES, VERSIONS = 8, 25
NAME = "contended"
TOKEN = "concurrency-token-5f0c3a9e71d24b86"
PUBLISHER = Path(__file__).with_name("publisher.py")
LOCKED = ("database is locked", "database is busy", "locked")


def weights(i: int, j: int) -> bytes:
    return f"weights of process {i}, publication {j}\n".encode()


def make_projects(base: Path) -> list[list[Path]]:
    """Process i's folders, one per version i.j.0, each with its own weights."""
    return [[make_project(base / f"p{i}" / f"v{j}", name=NAME, version=f"{i}.{j}.0", weights=weights(i, j))
             for j in range(VERSIONS)] for i in range(PROCESSES)]


def run_publishers(tmp_path: Path, target_args: list[str], env: dict[str, str]) -> tuple[list[dict[str, Any]], str]:
    """Start the 8 publishers at once and wait for all; returns their records and everything they printed."""
    projects = make_projects(tmp_path / "projects")
    procs = []
    for i, folders in enumerate(projects):
        out, err = tmp_path / f"publisher{i}.out", tmp_path / f"publisher{i}.err"
        with out.open("wb") as o, err.open("wb") as e:
            argv = [sys.executable, str(PUBLISHER), *target_args, "--", *map(str, folders)]
            procs.append((subprocess.Popen(argv, stdout=o, stderr=e, env=env), out, err))
    for proc, _, err in procs:
        assert proc.wait(timeout=600) == 0, err.read_text()
    records = [json.loads(line) for _, out, _ in procs for line in out.read_text().splitlines()]
    printed = "\n".join(p.read_text() for _, out, err in procs for p in (out, err))
    return records, printed


def assert_all_published(records: list[dict[str, Any]], printed: str, root: Path, identity: Identity) -> None:
    """200 successful publications, each its own version with its own bytes, once, and no lock error anywhere."""
    failures = [r for r in records if r["exit"] != 0 or r["exception"]]
    assert not failures, failures[:3]
    assert len(records) == PROCESSES * VERSIONS
    tasks = [json.loads(r["stdout"]) for r in records]
    assert {t["status"] for t in tasks} == {"succeeded"}
    assert len({t["task_id"] for t in tasks}) == PROCESSES * VERSIONS
    lowered = printed.lower() + "".join(p.read_text().lower() for p in (root / "logs").glob("*.log"))
    assert not [word for word in LOCKED if word in lowered]
    assert_versions(root, identity, {t["task_id"] for t in tasks})


def assert_versions(root: Path, identity: Identity, task_ids: set[str]) -> None:
    service = RegistryService(root)
    expected = {f"{i}.{j}.0": weights(i, j) for i in range(PROCESSES) for j in range(VERSIONS)}
    listed = service.get_servable(identity, identity.username, NAME)["versions"]
    assert sorted(listed) == sorted(expected) and len(listed) == len(set(listed))
    for version, data in expected.items():
        found = service.get_servable(identity, identity.username, NAME, version)
        stored = {f["path"]: f["sha256"] for f in found["files"]}
        assert stored["weights.bin"] == hashlib.sha256(data).hexdigest(), version
        assert found["task_id"] in task_ids
    with closing(sqlite3.connect(root / "registry.sqlite3")) as db:
        counts = dict(db.execute("SELECT status, COUNT(*) FROM tasks GROUP BY status").fetchall())
        versions = db.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
    assert counts == {"succeeded": PROCESSES * VERSIONS} and versions == PROCESSES * VERSIONS
    report = cli_json("registry", "check", "--registry", str(root))
    assert report["ok"] and report["versions"] == PROCESSES * VERSIONS and not report["orphan_blobs"], report


def client_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """One shared hash cache and config folder, as 8 shells of one user would have."""
    return {**os.environ, "DLHUB_MANIFEST_CACHE_DIR": str(tmp_path / "cache"),
            "DLHUB_MANIFEST_CONFIG_DIR": str(tmp_path / "config"), **extra}


@pytest.mark.slow
def test_eight_processes_publish_to_one_local_registry(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    try:
        records, printed = run_publishers(tmp_path, ["--registry", str(root)], client_env(tmp_path))
    finally:
        kill_registry_processes(root)  # the worker would linger, waiting for more work
    assert_all_published(records, printed, root, Identity.local())


@pytest.mark.slow
def test_eight_processes_publish_through_the_http_server(tmp_path: Path) -> None:
    with serve(tmp_path, {TOKEN: "alice"}) as server:
        env = client_env(tmp_path, DLHUB_MANIFEST_TOKEN=TOKEN)
        records, printed = run_publishers(tmp_path, ["--target", server.url], env)
        server_log = server.log.read_text()
    assert_all_published(records, printed + server_log, server.root, Identity("urn:test:alice", "alice"))
    assert " 500 " not in server_log and "Traceback" not in server_log
