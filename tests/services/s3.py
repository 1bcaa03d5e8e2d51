"""An S3-protocol server for the tests: moto's server mode in its own process on 127.0.0.1 and a free port.

The code under test only speaks the S3 API, so MinIO, Ceph or AWS behave the same. moto differs from them in
one way the tests rely on: it neither checks signed checksums nor computes SHA-256 for presigned uploads, so
a corrupted upload reaches the registry's own verification (a read back), which is what must refuse it.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from dlhub_manifest.util.procutil import stop_process

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass
class S3:
    """A bucket of its own on the shared S3 server, and a client to look inside it."""

    endpoint: str
    bucket: str
    client: Any

    def url(self, prefix: str = "registry") -> str:
        return f"s3://{self.bucket}/{prefix}"

    def objects(self, under: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=under)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def moto_server(log: Path) -> Iterator[str]:
    """`python -m moto.server` on a free port until the block ends; yields its endpoint URL."""
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"moto server did not start:\n{log.read_text()}")
            with contextlib.suppress(requests.RequestException):  # refused, or too busy to answer yet
                requests.get(endpoint + "/", timeout=5)
                break
            time.sleep(0.1)
        yield endpoint
    finally:
        stop_process(proc, grace=5)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One S3 server for the whole run (each test gets its own bucket)."""
    pytest.importorskip("moto.server", reason="moto[server] is in the test extra")
    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as endpoint:
        yield endpoint


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3:
    """A fresh bucket, with AWS credentials and the endpoint in the environment (child processes inherit them)."""
    import boto3

    for name, value in {**CREDENTIALS, "AWS_ENDPOINT_URL": s3_endpoint}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    bucket = f"test-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=bucket)
    return S3(s3_endpoint, bucket, client)


__all__ = ["S3", "moto_server", "s3", "s3_endpoint"]
