"""Direct uploads to an S3 blob store, against a plain boto3 upload of the same file to the same endpoint.

A `dlhub-manifest serve --blob-store s3://...` runs beside an S3-protocol server (moto's server mode, its own
process, on loopback). Ours: the client asks the registry for an upload plan, sends the parts to the presigned
URLs in parallel (timed: the transfer), then the registry verifies the bytes and files them (timed apart: moto
computes no SHA-256, so the registry reads the object back, then copies it inside the store). Baseline:
`boto3`'s `upload_file` with its default transfer settings. Runs are interleaved and every object is deleted
between runs.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _harness import Context, MiB, Result, random_file

TOKEN = "bench-token-0123456789abcdef"
BUCKET = "bench-blobs"
TRANSFER_TARGET = 0.8
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _process(argv: list[str], probe: str, env: dict[str, str], log: Path) -> Iterator[None]:
    """A child process serving HTTP (up once `probe` answers), until the block ends; on failure, the tail of
    its log joins the error."""
    import requests

    with log.open("wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        for _ in range(1200):  # a loaded machine may take a minute to start them
            with contextlib.suppress(requests.RequestException):
                requests.get(probe, timeout=5)
                break
            time.sleep(0.05)
        try:
            yield
        except Exception as e:
            tail = log.read_bytes()[-3000:].decode("utf-8", "replace")
            raise RuntimeError(f"{e}\n--- {log.name}:\n{tail}") from e
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@contextlib.contextmanager
def _services(workdir: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(S3 endpoint, registry URL, environment) of moto and `serve --blob-store` beside it."""
    env = {**os.environ, **CREDENTIALS}
    s3_port, port = _port(), _port()
    moto = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(s3_port)]
    endpoint, url = f"http://127.0.0.1:{s3_port}", f"http://127.0.0.1:{port}"
    with _process(moto, endpoint, env, workdir / "moto.log"):
        env["AWS_ENDPOINT_URL"] = endpoint
        tokens = workdir / "tokens.yaml"
        tokens.write_text(f"{TOKEN}: {{username: bench}}\n")
        serve = [sys.executable, "-m", "dlhub_manifest", "serve", "--registry", str(workdir / "registry"),
                 "--port", str(port), "--tokens", str(tokens), "--no-worker", "--max-blob-size", "4G",
                 "--blob-store", f"s3://{BUCKET}/registry"]
        _client(endpoint).create_bucket(Bucket=BUCKET)
        with _process(serve, f"{url}/healthz", env, workdir / "serve.log"):
            yield endpoint, url, env


def _client(endpoint: str) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")


def run(ctx: Context) -> list[Result]:
    from dlhub_manifest.credentials.login import bearer_authorizer
    from dlhub_manifest.targets.http_client import RegistryClient
    from dlhub_manifest.targets.http_direct import send_plan

    size = ctx.pick(1024, 64) * MiB
    path = ctx.workdir / "blob.bin"
    sha = random_file(path, size)
    with _services(ctx.workdir) as (endpoint, url, _env):
        s3 = _client(endpoint)
        registry = RegistryClient(url, authorizer=bearer_authorizer(TOKEN), timeout=600)
        times: dict[str, list[float]] = {"plain": [], "transfer": [], "verify": []}

        def plain() -> None:
            start = time.perf_counter()
            s3.upload_file(str(path), BUCKET, "plain/blob.bin")
            times["plain"].append(time.perf_counter() - start)
            s3.delete_object(Bucket=BUCKET, Key="plain/blob.bin")

        def ours() -> None:
            start = time.perf_counter()
            plan = registry.begin_upload(sha, size)
            etags = send_plan(plan, path, size)
            sent = time.perf_counter()
            registry.complete_upload(sha, {"size": size, "upload": plan["upload"], "upload_id": plan.get("upload_id"),
                                           "parts": [{"number": n, "etag": e} for n, e in etags.items()]})
            times["transfer"].append(sent - start)
            times["verify"].append(time.perf_counter() - sent)
            assert s3.head_object(Bucket=BUCKET, Key=f"registry/blobs/{sha}")["ContentLength"] == size
            s3.delete_object(Bucket=BUCKET, Key=f"registry/blobs/{sha}")

        for _ in range(ctx.pick(3, 1)):
            plain()
            ours()
        registry.close()
    path.unlink()
    mib = size / MiB
    best = {k: mib / min(v) for k, v in times.items()}
    whole = mib / min(t + v for t, v in zip(times["transfer"], times["verify"], strict=True))
    ctx.log(f"   {mib:,.0f} MiB: direct transfer {best['transfer']:,.0f} MiB/s, boto3 {best['plain']:,.0f} MiB/s, "
            f"registry verification {best['verify']:,.0f} MiB/s, whole direct upload {whole:,.0f} MiB/s")
    runs = len(times["plain"])
    return [
        Result("s3", f"direct upload of {mib:,.0f} MiB to the S3 endpoint (best of {runs})", best["transfer"],
               "MiB/s", "boto3 upload_file, same file and endpoint", best["plain"], TRANSFER_TARGET,
               higher_is_better=True),
        Result("s3", f"direct upload of {mib:,.0f} MiB including the registry's verification (read back + "
               "copy)", whole, "MiB/s", "boto3 upload_file, same file and endpoint", best["plain"],
               higher_is_better=True, note="moto computes no SHA-256, so the registry reads the object back"),
    ]
