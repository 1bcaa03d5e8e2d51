"""Blobs over HTTP against a real `dlhub-manifest serve`: skip what is held, verify, limit, resume."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from registry_server import TOKENS, FaultProxy, Server, running_server

from dlhub_manifest.credentials.login import Credentials, bearer_authorizer
from dlhub_manifest.credentials.userconfig import TargetConfig
from dlhub_manifest.errors import UsageError
from dlhub_manifest.targets.http import HttpTarget


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("blobs"), "--max-blob-size", "8M", "--no-worker") as srv:
        yield srv


def target(url: str, **kwargs: object) -> HttpTarget:
    creds = Credentials(bearer_authorizer(TOKENS["alice"]), "test token")
    return HttpTarget(TargetConfig(url), credentials=creds, sleep=lambda s: None, **kwargs)  # type: ignore[arg-type]


def blob(tmp_path: Path, size: int, name: str = "blob.bin") -> tuple[Path, str, bytes]:
    data = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest(), data


def stored(server: Server, sha256: str) -> bytes:
    return (server.root / "blobs" / sha256[:2] / sha256).read_bytes()


def test_upload_then_the_blob_is_no_longer_missing(server: Server, tmp_path: Path) -> None:
    path, sha, data = blob(tmp_path, 3_000_000)
    t = target(server.url)
    assert t.missing_blobs([sha]) == {sha}
    progress: list[int] = []
    t.upload_blob(path, sha, len(data), progress.append)
    assert sum(progress) == len(data)
    assert t.missing_blobs([sha]) == set()
    assert stored(server, sha) == data
    head = requests.head(f"{server.url}/blobs/{sha}", headers=server.headers())
    assert (head.status_code, head.headers["content-length"]) == (200, str(len(data)))


def test_a_held_blob_is_not_sent_again(server: Server, tmp_path: Path) -> None:
    path, sha, data = blob(tmp_path, 100_000)
    target(server.url).upload_blob(path, sha, len(data))
    proxy = FaultProxy(server.url)
    try:
        target(proxy.url).upload_blob(path, sha, len(data))
    finally:
        proxy.close()
    assert proxy.requests_to("PUT", "/blobs/") == []
    # which upload route this registry offers (asked once per target), then where the upload stands
    assert [s.path for s in proxy.seen] == ["/uploads", f"/uploads/{sha}"]


def test_bytes_that_do_not_match_the_digest_are_refused_and_not_kept(server: Server) -> None:
    wrong = hashlib.sha256(b"something else").hexdigest()
    r = requests.put(f"{server.url}/blobs/{wrong}", data=b"these bytes", headers=server.headers())
    assert r.status_code == 422
    assert r.json()["code"] == "digest_mismatch"
    assert requests.get(f"{server.url}/uploads/{wrong}", headers=server.headers()).json() == {
        "sha256": wrong, "complete": False, "offset": 0}
    assert not (server.root / "blobs" / wrong[:2] / wrong).exists()


def test_over_the_size_limit_is_413_before_reading(server: Server, tmp_path: Path) -> None:
    path, sha, data = blob(tmp_path, 9 * 1024 * 1024)
    with pytest.raises(UsageError, match="over this registry's limit"):
        target(server.url, upload_attempts=1).upload_blob(path, sha, len(data))
    tail = {"Content-Range": f"bytes {len(data) - 1000}-{len(data) - 1}/{len(data)}"}
    r = requests.put(f"{server.url}/blobs/{sha}", data=b"x" * 1000, headers={**server.headers(), **tail})
    assert (r.status_code, r.json()["code"]) == (413, "too_large")  # a resumed upload is limited by its total


def test_resume_must_start_at_the_servers_offset(server: Server) -> None:
    data = os.urandom(1000)
    sha = hashlib.sha256(data).hexdigest()
    h = server.headers()
    r = requests.put(f"{server.url}/blobs/{sha}", data=data[500:],
                     headers={**h, "Content-Range": "bytes 500-999/1000"})
    assert (r.status_code, r.json()["offset"]) == (409, 0)
    bad = requests.put(f"{server.url}/blobs/{sha}", data=data[500:],
                       headers={**h, "Content-Range": "bytes 500-998/1000"})
    assert bad.status_code == 400


def test_a_dropped_upload_resumes_without_resending_what_arrived(server: Server, tmp_path: Path) -> None:
    path, sha, data = blob(tmp_path, 6_000_000)
    proxy = FaultProxy(server.url, plan=[("PUT", "/blobs/", "drop:2500000")])
    progress: list[int] = []
    try:
        target(proxy.url).upload_blob(path, sha, len(data), progress.append)
    finally:
        proxy.close()
    puts = proxy.requests_to("PUT", "/blobs/")
    assert [p.action for p in puts] == ["drop:2500000", "pass"]
    start = int(puts[1].headers["content-range"].split()[1].split("-")[0])
    assert start == 2_500_000  # every byte that reached the server was kept
    assert puts[1].body_bytes == len(data) - start
    assert sum(progress) == len(data)
    assert stored(server, sha) == data


def test_503_on_upload_is_retried(server: Server, tmp_path: Path) -> None:
    path, sha, data = blob(tmp_path, 200_000)
    proxy = FaultProxy(server.url, plan=[("PUT", "/blobs/", "503")])
    try:
        target(proxy.url).upload_blob(path, sha, len(data))
    finally:
        proxy.close()
    assert [p.action for p in proxy.requests_to("PUT", "/blobs/")] == ["503", "pass"]
    assert stored(server, sha) == data


def test_missing_refuses_things_that_are_not_digests(server: Server) -> None:
    r = requests.post(f"{server.url}/blobs/missing", json={"digests": ["../../etc/passwd"]}, headers=server.headers())
    assert r.status_code == 400
    assert "not a sha256 digest" in r.json()["message"]
