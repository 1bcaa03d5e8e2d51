"""A real `dlhub-manifest serve --blob-store s3://...` against an S3-protocol server (moto): clients send blob
bytes to the object store directly, the registry verifies them before any publication may use them."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from publish_support import make_project
from registry_server import TOKENS, FaultProxy, Server, running_server
from services.s3 import S3

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sklearn"
BIG = 5 * (1 << 20) + 12_345  # above the 1M threshold the server is given: 2 parts (S3's smallest is 5 MiB)


@pytest.fixture
def server(s3: S3, tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "srv").mkdir()
    with running_server(tmp_path / "srv", "--blob-store", s3.url(), "--multipart-threshold", "1M") as srv:
        yield srv


def cli(tmp_path: Path, *args: str, expect: int = 0) -> str:
    env = {**os.environ, "DLHUB_MANIFEST_TOKEN": TOKENS["alice"], "DLHUB_MANIFEST_CACHE_DIR": str(tmp_path / "cache"),
           "DLHUB_MANIFEST_CONFIG_DIR": str(tmp_path / "config")}
    proc = subprocess.run([sys.executable, "-m", "dlhub_manifest", *args], env=env, capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == expect, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def project(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    folder = Path(shutil.copytree(EXAMPLE, tmp_path / "project"))
    files = {"weights.bin": os.urandom(BIG), "notes.txt": b"small enough for one PUT\n",
             "model.pkl": (folder / "model.pkl").read_bytes()}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    text = (folder / "dlhub.yaml").read_text().replace("name: iris-classifier", "name: iris-on-s3")
    (folder / "dlhub.yaml").write_text(text + "version: 1.0.0\nfiles: [weights.bin, notes.txt]\n")
    return folder, files


def test_publish_sends_blob_bytes_to_the_object_store_not_the_server(server: Server, s3: S3, tmp_path: Path) -> None:
    folder, files = project(tmp_path)
    proxy = FaultProxy(server.url)  # every byte the client sends the registry goes through here
    try:
        done = json.loads(cli(tmp_path, "publish", str(folder), "--target", proxy.url, "--wait", "--no-inspect",
                              "--format", "json"))
    finally:
        proxy.close()
    assert done["status"] == "succeeded", done
    assert proxy.requests_to("PUT", "/blobs/") == []
    started = sorted(s.path for s in proxy.requests_to("POST", "/uploads/") if not s.path.endswith("/complete"))
    completed = sorted(s.path.removesuffix("/complete") for s in proxy.requests_to("POST", "/uploads/")
                       if s.path.endswith("/complete"))
    assert started == completed  # each blob (dlhub.yaml too) started and completed once
    assert {f"/uploads/{hashlib.sha256(d).hexdigest()}" for d in files.values()} <= set(started)
    assert sum(s.body_bytes for s in proxy.seen) < 20_000  # JSON only: the 5 MiB went straight to S3
    for data in files.values():
        assert s3.read(f"registry/blobs/{hashlib.sha256(data).hexdigest()}") == data
    assert s3.objects("registry/uploads/") == []  # staged uploads were filed and removed
    assert not (server.root / "blobs").exists()
    shown = json.loads(cli(tmp_path, "show", "alice/iris-on-s3", "--target", server.url, "--format", "json"))
    weights = hashlib.sha256(files["weights.bin"]).hexdigest()
    fetched = requests.get(f"{server.url}/blobs/{weights}", headers=server.headers(), timeout=60)
    assert (fetched.status_code, fetched.content) == (200, files["weights.bin"])  # read back from the store
    listed = {f["path"]: f["size"] for f in shown["files"]}
    assert listed == {**{k: len(v) for k, v in files.items()}, "dlhub.yaml": (folder / "dlhub.yaml").stat().st_size}


def test_a_corrupted_upload_is_refused_before_any_publication_can_use_it(server: Server, s3: S3,
                                                                          tmp_path: Path) -> None:
    data = os.urandom(BIG)
    digest = hashlib.sha256(data).hexdigest()
    headers = server.headers()
    plan = requests.post(f"{server.url}/uploads/{digest}", json={"size": BIG}, headers=headers, timeout=30).json()
    assert plan["method"] == "multipart" and len(plan["urls"]) == 2
    etags = []
    for n, url in enumerate(plan["urls"], 1):
        chunk = data[(n - 1) * plan["part_size"]:n * plan["part_size"]]
        if n == 1:
            chunk = chunk[:1000] + b"\0" + chunk[1001:]  # one byte damaged on the way
        r = requests.put(url, data=chunk, timeout=30)
        assert r.status_code == 200
        etags.append({"number": n, "etag": r.headers["ETag"]})
    receipt = {"size": BIG, "upload": plan["upload"], "upload_id": plan["upload_id"], "parts": etags}
    refused = requests.post(f"{server.url}/uploads/{digest}/complete", json=receipt, headers=headers, timeout=60)
    assert (refused.status_code, refused.json()["code"]) == (422, "digest_mismatch")
    assert s3.objects() == []
    missing = requests.post(f"{server.url}/blobs/missing", json={"digests": [digest]}, headers=headers, timeout=30)
    assert missing.json()["missing"] == [digest]


def test_a_short_single_put_is_refused(server: Server, s3: S3) -> None:
    data = b"a small file that arrives cut short"
    digest = hashlib.sha256(data).hexdigest()
    plan = requests.post(f"{server.url}/uploads/{digest}", json={"size": len(data)}, headers=server.headers(),
                         timeout=30).json()
    assert plan["method"] == "put"
    assert requests.put(plan["urls"][0], data=data[:-5], headers=plan["headers"], timeout=30).status_code == 200
    refused = requests.post(f"{server.url}/uploads/{digest}/complete", json={"size": len(data),
                            "upload": plan["upload"]}, headers=server.headers(), timeout=30)
    assert refused.status_code == 422 and "not the announced" in refused.json()["message"]
    assert s3.objects() == []


def test_a_part_cut_off_on_the_way_to_the_store_is_sent_again(s3: S3, tmp_path: Path) -> None:
    from dlhub_manifest.credentials.login import Credentials, bearer_authorizer
    from dlhub_manifest.credentials.userconfig import TargetConfig
    from dlhub_manifest.targets.http import HttpTarget

    uploads = f"/{s3.bucket}/registry/uploads/"
    proxy = FaultProxy(s3.endpoint, plan=[("PUT", uploads, "drop:100000")])  # the store, as the server sees it
    (tmp_path / "srv").mkdir()
    data = os.urandom(BIG)
    (tmp_path / "blob.bin").write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    progress: list[int] = []
    try:
        with running_server(tmp_path / "srv", "--blob-store", s3.url(), "--s3-endpoint-url", proxy.url,
                            "--multipart-threshold", "1M", "--no-worker") as srv:
            target = HttpTarget(TargetConfig(srv.url), credentials=Credentials(bearer_authorizer(TOKENS["alice"]),
                                "test token"), sleep=lambda _s: None)
            target.upload_blob(tmp_path / "blob.bin", digest, BIG, progress.append)
            target.close()
    finally:
        proxy.close()
    puts = proxy.requests_to("PUT", uploads)
    assert [p.action for p in puts].count("drop:100000") == 1 and len(puts) == 3  # 2 parts, one sent twice
    assert all("authorization" not in p.headers for p in puts)  # presigned: no registry token to the store
    assert sum(progress) == BIG  # the resent part is not counted twice
    assert s3.read(f"registry/blobs/{digest}") == data


def test_serve_refuses_to_start_on_a_bucket_it_cannot_use(s3: S3, tmp_path: Path) -> None:
    (tmp_path / "tokens.yaml").write_text(f"{TOKENS['alice']}: {{username: alice}}\n")
    proc = subprocess.run([sys.executable, "-m", "dlhub_manifest", "serve", "--registry", str(tmp_path / "reg"),
                           "--tokens", str(tmp_path / "tokens.yaml"), "--port", "0", "--blob-store",
                           "s3://no-such-bucket-here/x"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "s3://no-such-bucket-here/x/" in proc.stderr and "refused to reach" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_client_that_streams_through_the_server_still_lands_in_the_store(server: Server, s3: S3) -> None:
    data = b"an older client sends PUT /blobs" * 1000
    digest = hashlib.sha256(data).hexdigest()
    assert requests.get(f"{server.url}/uploads", headers=server.headers(), timeout=30).json() == {"direct": True}
    r = requests.put(f"{server.url}/blobs/{digest}", data=data, headers=server.headers(), timeout=30)
    assert r.status_code == 201, r.text
    assert s3.read(f"registry/blobs/{digest}") == data
    assert list((server.root / "uploads").iterdir()) == []  # the local part file went to the store
    head = requests.head(f"{server.url}/blobs/{digest}", headers=server.headers(), timeout=30)
    assert head.headers["content-length"] == str(len(data))


def test_two_replicas_on_one_database_and_bucket_share_the_blobs(s3: S3, tmp_path: Path, postgres_url: str) -> None:
    """Each replica has a folder of its own; what one receives, the other's workers and readers find in S3."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shared = ("--database", postgres_url, "--blob-store", s3.url(), "--multipart-threshold", "1M")
    with running_server(tmp_path / "a", *shared) as a, running_server(tmp_path / "b", *shared) as b:
        for n, (first, second) in enumerate([(a, b), (b, a)]):
            project = make_project(tmp_path / f"p{n}", name=f"shared-{n}", weights=os.urandom(BIG))
            done = json.loads(cli(tmp_path, "publish", str(project), "--target", first.url, "--wait",
                                  "--no-inspect", "--format", "json"))
            assert done["status"] == "succeeded", done
            weights = hashlib.sha256((project / "weights.bin").read_bytes()).hexdigest()
            fetched = requests.get(f"{second.url}/blobs/{weights}", headers=second.headers(), timeout=60)
            assert fetched.content == (project / "weights.bin").read_bytes()  # served by the other replica
    assert not (a.root / "blobs").exists() and not (b.root / "blobs").exists()
    assert len(s3.objects("registry/blobs/")) >= 2 and s3.objects("registry/uploads/") == []
