"""Direct uploads to an S3 blob store: clients PUT to presigned URLs, the server verifies before filing.

The bytes go to a staging object `PREFIX/uploads/<sha256>/<token>`, never to the blob's own key, so no
publication can reference them before they are checked. Small blobs take one presigned PUT that carries the
blob's SHA-256 (`x-amz-checksum-sha256`, signed: AWS, MinIO and Ceph refuse a body that does not match);
large ones a multipart upload whose presigned parts the client sends in parallel. On completion the server
trusts a whole-object SHA-256 the store itself reports, and otherwise (multipart checksums are composite;
some stores compute none) reads the object back and hashes it. Only then is it copied to `blobs/<sha256>`.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
import time
from typing import TYPE_CHECKING, Any

from dlhub_manifest.errors import DigestMismatch, UsageError
from dlhub_manifest.registry.blobs import CHUNK, check_digest
from dlhub_manifest.registry.blobstore import UploadPlan, UploadReceipt
from dlhub_manifest.registry.s3blobs import b64_digest, part_size_for

if TYPE_CHECKING:
    from dlhub_manifest.registry.s3blobs import S3BlobStore

MULTIPART_THRESHOLD = 64 << 20  # blobs from this size up are sent as parallel parts
CLIENT_PART_SIZE = 32 << 20
MIN_PART = 5 << 20  # S3 refuses smaller parts (except the last)
URL_SECONDS = 6 * 3600  # presigned URLs stay valid this long (a slow link may need hours for a big file)
STAGING_SECONDS = URL_SECONDS + 3600  # staged uploads older than this are abandoned (`clean_tmp`)
COPY_LIMIT = 5 << 30  # one CopyObject up to S3's limit for it; larger blobs are copied in parts
COPY_PART = 512 << 20
CLIENT_FAULTS = {"InvalidPart", "InvalidPartOrder", "NoSuchUpload", "EntityTooSmall"}  # the client's doing
_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def staged_at(key: str) -> float | None:
    """When the staged upload `key` began, from its token (None: not a staging key); the token, not the store's
    own dates, decides when an upload is abandoned (some stores date every multipart upload wrongly)."""
    token = key.rsplit("/", 1)[-1]
    return float(int(token[:8], 16)) if "/uploads/" in f"/{key}" and _TOKEN.match(token) else None


class S3DirectUploads:
    """Presigned uploads into the staging area of an `S3BlobStore`, verified on completion."""

    def __init__(self, store: S3BlobStore, threshold: int = MULTIPART_THRESHOLD) -> None:
        self.store, self.threshold = store, threshold
        self.verified_by: dict[str, int] = {"checksum": 0, "read": 0}  # how completions were verified

    def staging_key(self, sha256: str, token: str) -> str:
        if not _TOKEN.match(token):
            raise UsageError(f"{token!r} is not an upload of this registry (send the `upload` of the plan)")
        return f"{self.store.prefix}uploads/{check_digest(sha256)}/{token}"

    def begin_upload(self, sha256: str, size: int) -> UploadPlan:
        token = f"{int(time.time()):08x}{secrets.token_hex(12)}"  # when it began, then 96 random bits
        key = self.staging_key(sha256, token)
        with self.store.calling("start an upload to"):
            if size < self.threshold:
                checksum = b64_digest(sha256)
                url = self._presign("put_object", Key=key, ContentLength=size, ChecksumSHA256=checksum)
                return UploadPlan("put", token, [url], {"x-amz-checksum-sha256": checksum})
            part = part_size_for(size, max(MIN_PART, min(CLIENT_PART_SIZE, self.threshold)))
            upload_id = self.store.client.create_multipart_upload(Bucket=self.store.bucket, Key=key)["UploadId"]
            urls = [self._presign("upload_part", Key=key, UploadId=upload_id, PartNumber=n + 1,
                                  ContentLength=min(part, size - n * part))
                    for n in range(-(-size // part))]
        return UploadPlan("multipart", token, urls, {}, part, upload_id)

    def _presign(self, operation: str, **params: Any) -> str:
        return str(self.store.client.generate_presigned_url(operation, ExpiresIn=URL_SECONDS,
                                                            Params={"Bucket": self.store.bucket, **params}))

    def complete_upload(self, sha256: str, size: int, receipt: UploadReceipt) -> bool:
        key = self.staging_key(sha256, receipt.upload)
        with self.store.calling("finish an upload to"):
            if self.store.size(sha256) == size and self.store.head(key) is None:
                self._discard(key, receipt.upload_id)  # a retry whose first answer was lost, or a duplicate upload
                return False
            try:
                if receipt.upload_id is not None:
                    self._complete_multipart(key, receipt)
                self._verify(key, sha256, size)
            except BaseException:
                self._discard(key, receipt.upload_id)
                raise
            stored = self.store.size(sha256) is None
            if stored:
                self._copy(key, self.store.key(sha256))
            self.store.client.delete_object(Bucket=self.store.bucket, Key=key)
        return stored

    def _complete_multipart(self, key: str, receipt: UploadReceipt) -> None:
        numbers = sorted(receipt.etags)
        if not numbers or numbers != list(range(1, len(numbers) + 1)):
            raise UsageError("send the ETag of every part, numbered from 1 without gaps")
        parts = [{"PartNumber": n, "ETag": receipt.etags[n]} for n in numbers]
        from botocore.exceptions import ClientError

        try:
            self.store.client.complete_multipart_upload(Bucket=self.store.bucket, Key=key,
                                                        UploadId=receipt.upload_id, MultipartUpload={"Parts": parts})
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code")
            if code not in CLIENT_FAULTS:
                raise
            raise UsageError(f"the object store refused the parts sent ({code}): send every part of the plan, "
                             "each with the ETag the store answered, or publish again") from e

    def _verify(self, key: str, sha256: str, size: int) -> None:
        """The staged object must be `size` bytes hashing to `sha256`: by the store's checksum, else read back."""
        head = self.store.head(key, checksum=True)
        held = None if head is None else int(head["ContentLength"])
        if held != size:
            got = "nothing" if held is None else f"{held} bytes"
            raise DigestMismatch(f"blob {sha256[:12]}: the store received {got}, not the announced {size} bytes; "
                                 "the upload was cut short or the file changed: publish again")
        assert head is not None
        reported = head.get("ChecksumSHA256")
        if reported and "-" not in reported and head.get("ChecksumType") in (None, "FULL_OBJECT"):
            actual, how = (sha256 if reported == b64_digest(sha256) else reported), "checksum"
        else:
            actual, how = self._hash_object(key, sha256), "read"
        if actual != sha256:
            raise DigestMismatch(f"blob {sha256[:12]}: the bytes the store received do not hash to it; the file "
                                 "changed while it was being published: publish again")
        self.verified_by[how] += 1

    def _hash_object(self, key: str, sha256: str) -> str:
        digest = hashlib.sha256()
        with self.store.open_key(key, sha256) as body:
            while chunk := body.read(8 * CHUNK):
                digest.update(chunk)
        return digest.hexdigest()

    def _copy(self, source: str, target: str) -> None:
        """A copy inside the store (no bytes through this process); in parts above COPY_LIMIT."""
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=COPY_LIMIT, multipart_chunksize=COPY_PART, max_concurrency=8)
        self.store.client.copy({"Bucket": self.store.bucket, "Key": source}, self.store.bucket, target,
                               Config=config)

    def _discard(self, key: str, upload_id: str | None) -> None:
        """Drop a refused upload (best effort: `registry` clean-up removes what is left)."""
        client, bucket = self.store.client, self.store.bucket
        if upload_id is not None:  # not completed yet; once completed, aborting fails and the object remains
            with contextlib.suppress(Exception):
                client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        with contextlib.suppress(Exception):  # the refusal, not the clean-up, is what the caller must see
            client.delete_object(Bucket=bucket, Key=key)
