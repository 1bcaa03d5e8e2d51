"""Blobs in any S3-compatible object store (AWS S3, MinIO, Ceph, moto): `PREFIX/blobs/<sha256>`.

Only the S3 API is spoken, through boto3: the endpoint comes from `--s3-endpoint-url` or `AWS_ENDPOINT_URL`,
credentials and region from the standard AWS variables and files. A blob appears under its digest only once
its bytes are verified: `put` hashes while it sends and completes the object only on a match (one request
carrying its SHA-256 for small blobs, a multipart upload with parts in parallel for large ones); uploads
straight from clients land under `PREFIX/uploads/` first (see `s3direct`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from dlhub_manifest.errors import NotFoundError, StorageError
from dlhub_manifest.registry.blobs import CHUNK, check_digest, check_received
from dlhub_manifest.registry.blobstore import Progress

if TYPE_CHECKING:
    from dlhub_manifest.registry.s3direct import S3DirectUploads

PART_SIZE = 16 << 20  # bytes per part of a server-side multipart upload
MAX_PARTS = 10_000  # S3's limit: larger blobs get larger parts
CONCURRENCY = 8  # parts in flight at once (and HEADs when asking which blobs are missing)
DEFAULT_REGION = "us-east-1"  # S3-compatible stores ignore it; boto3 needs one to sign
READ_TIMEOUT = 600  # seconds: completing or copying a multi-GiB object can keep a store silent for minutes
DIGEST = re.compile(r"^[0-9a-f]{64}$")


def b64_digest(sha256: str) -> str:
    """The hex digest as S3 spells a SHA-256 checksum (base64 of the raw bytes)."""
    return base64.b64encode(bytes.fromhex(sha256)).decode("ascii")


def part_size_for(size: int, minimum: int = PART_SIZE) -> int:
    """`minimum`, or more for a blob that would need more than MAX_PARTS parts (whole MiB)."""
    needed = -(-size // MAX_PARTS)
    return max(minimum, -(-needed // (1 << 20)) * (1 << 20))


class S3BlobStore:
    """The blobs of one registry under `s3://bucket/prefix`; safe for any number of servers and workers."""

    def __init__(self, bucket: str, prefix: str = "", *, endpoint_url: str | None = None,
                 multipart_threshold: int | None = None) -> None:
        from dlhub_manifest.registry.s3direct import MULTIPART_THRESHOLD, S3DirectUploads

        self.bucket, self.prefix, self.endpoint_url = bucket, prefix, endpoint_url
        self.direct: S3DirectUploads | None = S3DirectUploads(self, multipart_threshold or MULTIPART_THRESHOLD)

    @property
    def location(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"s3://{self.bucket}/{self.prefix}{where}"

    @cached_property
    def client(self) -> Any:
        """One boto3 S3 client (thread-safe), path-style addressing on a custom endpoint."""
        import boto3
        from botocore.config import Config

        session = boto3.session.Session()
        config = Config(signature_version="s3v4", max_pool_connections=4 * CONCURRENCY, retries={"mode": "standard"},
                        read_timeout=READ_TIMEOUT,
                        s3={"addressing_style": "path"} if self.endpoint_url else None,
                        request_checksum_calculation="when_required", response_checksum_validation="when_required")
        with self.calling("connect to"):
            return session.client("s3", endpoint_url=self.endpoint_url, config=config,
                                  region_name=session.region_name or DEFAULT_REGION)

    def ensure_reachable(self) -> None:
        """The bucket exists and these credentials may use it."""
        with self.calling("reach"):
            self.client.head_bucket(Bucket=self.bucket)

    def key(self, sha256: str) -> str:
        return f"{self.prefix}blobs/{check_digest(sha256)}"

    @contextlib.contextmanager
    def calling(self, what: str) -> Iterator[None]:
        """botocore errors → StorageError (the registry's storage failed, HTTP 500) naming the store and what to
        check (never the credentials)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as e:
            error = e.response.get("Error", {})
            raise StorageError(f"the blob store {self.location} refused to {what}: {error.get('Code')} "
                                f"{error.get('Message', '')}".rstrip() + "; check the bucket and the AWS "
                                "credentials") from e
        except BotoCoreError as e:
            raise StorageError(f"cannot {what} the blob store {self.location}: {e}; check --s3-endpoint-url "
                                "(or AWS_ENDPOINT_URL) and the AWS credentials") from e

    def head(self, key: str, *, checksum: bool = False) -> dict[str, Any] | None:
        """The object's metadata, or None when there is no such object."""
        from botocore.exceptions import ClientError

        extra = {"ChecksumMode": "ENABLED"} if checksum else {}
        try:
            return cast(dict[str, Any], self.client.head_object(Bucket=self.bucket, Key=key, **extra))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            with self.calling("read"):
                raise

    def size(self, sha256: str) -> int | None:
        head = self.head(self.key(sha256))
        return None if head is None else int(head["ContentLength"])

    def missing(self, digests: Iterable[str]) -> set[str]:
        wanted = sorted(set(digests))
        if len(wanted) <= 1:
            return {d for d in wanted if self.size(d) is None}
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            sizes = pool.map(self.size, wanted)
            return {d for d, s in zip(wanted, sizes, strict=True) if s is None}

    @contextlib.contextmanager
    def open(self, sha256: str) -> Iterator[BinaryIO]:
        with self.open_key(self.key(sha256), sha256) as body:
            yield body

    @contextlib.contextmanager
    def open_key(self, key: str, label: str) -> Iterator[BinaryIO]:
        """The bytes of object `key` as a stream (NotFoundError when it does not exist)."""
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise NotFoundError(f"blob {label} is not in {self.location}") from e
            with self.calling("read"):
                raise
        try:
            yield cast(BinaryIO, body)
        finally:
            body.close()

    def local_path(self, sha256: str) -> Path | None:
        """Never: the blobs are in the object store."""
        check_digest(sha256)
        return None

    def put(self, stream: BinaryIO, sha256: str, size: int, progress: Progress | None = None) -> bool:
        """Send `size` bytes from `stream` as blob `sha256`; the object is completed only if they match."""
        check_digest(sha256)
        if self.size(sha256) is not None:
            return False
        with self.calling("store a blob in"):
            if size < PART_SIZE:
                self._put_small(stream, sha256, size, progress)
            else:
                self._put_multipart(stream, sha256, size, progress)
        return True

    def _put_small(self, stream: BinaryIO, sha256: str, size: int, progress: Progress | None) -> None:
        data = _read_up_to(stream, size + 1)
        check_received(sha256, size, hashlib.sha256(data).hexdigest(), len(data))
        # the store checks the SHA-256 too, so bytes damaged on the way are refused
        self.client.put_object(Bucket=self.bucket, Key=self.key(sha256), Body=data,
                               ChecksumSHA256=b64_digest(sha256))
        if progress is not None:
            progress(len(data))

    def _put_multipart(self, stream: BinaryIO, sha256: str, size: int, progress: Progress | None) -> None:
        """Parts go out CONCURRENCY at a time while the next is read and hashed; a mismatch aborts the upload."""
        key, part = self.key(sha256), part_size_for(size)
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        digest, done, parts = hashlib.sha256(), 0, []
        try:
            with ThreadPoolExecutor(CONCURRENCY) as pool:
                pending: list[Future[dict[str, Any]]] = []
                while done <= size and (data := _read_up_to(stream, min(part, size + 1 - done))):
                    digest.update(data)
                    done += len(data)
                    if len(pending) >= CONCURRENCY:
                        parts.append(pending.pop(0).result())
                    pending.append(pool.submit(self._send_part, key, upload_id, len(parts) + len(pending) + 1,
                                               data, progress))
                parts += [f.result() for f in pending]
            check_received(sha256, size, digest.hexdigest(), done)
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id,
                                                  MultipartUpload={"Parts": parts})
        except BaseException:
            with contextlib.suppress(Exception):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise

    def _send_part(self, key: str, upload_id: str, number: int, data: bytes,
                   progress: Progress | None) -> dict[str, Any]:
        answer = self.client.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                                         Body=data)
        if progress is not None:
            progress(len(data))
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def ingest(self, stream: BinaryIO, progress: Progress | None = None) -> tuple[str, int]:
        """Hash first (the key is the digest), then send: a seekable stream is read twice, any other spooled."""
        if not _seekable(stream):
            with tempfile.TemporaryFile() as spool:
                shutil.copyfileobj(stream, spool, CHUNK)
                spool.seek(0)
                return self.ingest(cast(BinaryIO, spool), progress)
        start = stream.tell()
        digest, size = hashlib.sha256(), 0
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
        stream.seek(start)
        sha256 = digest.hexdigest()
        self.put(stream, sha256, size, progress)
        return sha256, size

    def adopt(self, path: Path, sha256: str) -> None:
        """Send a verified local file (a finished streamed upload) to the store, then drop the local copy."""
        with path.open("rb") as fh:
            self.put(fh, sha256, path.stat().st_size)
        path.unlink(missing_ok=True)

    def delete(self, sha256: str) -> bool:
        if self.size(sha256) is None:
            return False
        with self.calling("delete a blob from"):
            self.client.delete_object(Bucket=self.bucket, Key=self.key(sha256))
        return True

    def list_keys(self, under: str) -> Iterator[dict[str, Any]]:
        """Every object under `PREFIX/under` (key, size, last modified), in key order."""
        with self.calling("list"):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                          Prefix=self.prefix + under)
            for page in pages:
                yield from page.get("Contents", [])

    def digests(self) -> Iterator[str]:
        for obj in self.list_keys("blobs/"):
            name = obj["Key"][len(self.prefix) + len("blobs/"):]
            if DIGEST.match(name):
                yield name

    def strays(self) -> list[str]:
        """Staged or interrupted uploads and objects under `blobs/` that are not named by a digest."""
        bad = [o["Key"] for o in self.list_keys("blobs/") if not DIGEST.match(o["Key"].rsplit("/", 1)[-1])]
        staged = [o["Key"] for o in self.list_keys("uploads/")]
        return [f"s3://{self.bucket}/{k}" for k in bad + staged] + [
            f"s3://{self.bucket}/{u['Key']} (multipart upload {u['UploadId'][:12]}...)" for u in self._multiparts()]

    def _multiparts(self) -> list[dict[str, Any]]:
        with self.calling("list uploads in"):
            pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket,
                                                                                 Prefix=self.prefix)
            return [u for page in pages for u in page.get("Uploads", [])]

    def clean_tmp(self, older_than: float | None = None) -> int:
        """Drop staged uploads and abort multipart uploads begun more than `older_than` seconds ago (default:
        once their presigned URLs have expired, so no client is still sending)."""
        from dlhub_manifest.registry.s3direct import STAGING_SECONDS, staged_at

        older_than = STAGING_SECONDS if older_than is None else older_than
        cutoff = time.time() - older_than
        removed = 0
        with self.calling("clean up"):
            for obj in self.list_keys("uploads/"):
                if (staged_at(obj["Key"]) or obj["LastModified"].timestamp()) < cutoff:
                    self.client.delete_object(Bucket=self.bucket, Key=obj["Key"])
                    removed += 1
            for upload in self._multiparts():
                if (staged_at(upload["Key"]) or upload["Initiated"].timestamp()) < cutoff:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=upload["Key"],
                                                       UploadId=upload["UploadId"])
                    removed += 1
        return removed


def _read_up_to(stream: BinaryIO, n: int) -> bytes:
    """Up to `n` bytes (fewer only at the end of the stream)."""
    chunks, left = [], n
    while left > 0 and (chunk := stream.read(min(left, 8 * CHUNK))):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _seekable(stream: BinaryIO) -> bool:
    try:
        return bool(stream.seekable())
    except (AttributeError, ValueError):
        return False
