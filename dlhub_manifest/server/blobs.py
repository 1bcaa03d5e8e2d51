"""Blob routes: ask which digests are missing, how much of an upload arrived, and stream bytes in.

`PUT /blobs/{sha256}` is hashed while it is received and refused on mismatch; `Content-Range` resumes an
interrupted upload at the server's offset. Receiving and writing overlap (double buffering): the event
loop reads the next buffer while a worker thread hashes and writes the previous one.

With a blob store that takes uploads directly (S3), `POST /uploads/{sha256}` answers with presigned URLs
instead and `POST /uploads/{sha256}/complete` verifies what the store received: the bytes never pass here.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse

from dlhub_manifest.errors import TooLarge
from dlhub_manifest.registry.blobs import check_digest
from dlhub_manifest.registry.blobstore import BlobStore, UploadReceipt
from dlhub_manifest.server.common import HTTPProblem, call, identity_of, json_body
from dlhub_manifest.server.uploads import Upload

BUFFER = 4 << 20  # bytes handed to the writer thread at a time
MAX_DIGESTS = 100_000
SETTLE_SECONDS = 5.0
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


async def missing(request: Request) -> JSONResponse:
    """`POST /blobs/missing {digests}` → `{missing}`: one round trip before an upload."""
    await identity_of(request)
    body = await json_body(request, 80 * MAX_DIGESTS)
    digests = body.get("digests") if isinstance(body, dict) else None
    if not isinstance(digests, list) or len(digests) > MAX_DIGESTS:
        raise HTTPProblem(400, "bad_request", f"send {{\"digests\": [sha256, ...]}} with at most {MAX_DIGESTS}")
    for digest in digests:
        check_digest(digest)
    found: set[str] = await call(request.app.state.service.missing_blobs, digests)
    return JSONResponse({"missing": sorted(found)})


async def head(request: Request) -> Response:
    """`HEAD /blobs/{sha256}`: 200 with the size when stored, else 404."""
    await identity_of(request)
    size = await call(request.app.state.uploads.blobs.size, check_digest(request.path_params["sha256"]))
    if size is None:
        return Response(status_code=404)
    return Response(status_code=200, headers={"Content-Length": str(size)})


async def upload_state(request: Request) -> JSONResponse:
    """`GET /uploads/{sha256}` → `{sha256, complete, offset}`: where an interrupted upload resumes."""
    await identity_of(request)
    sha256 = check_digest(request.path_params["sha256"])
    lock = request.app.state.upload_locks.get(sha256)
    if lock is not None and lock.locked():
        # a dropped connection may not have been noticed yet: let that upload settle so the offset is final
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(lock.acquire(), SETTLE_SECONDS)
            lock.release()
    return JSONResponse(await call(request.app.state.uploads.state, sha256))


async def upload_options(request: Request) -> JSONResponse:
    """`GET /uploads` → `{direct}`: whether uploads go straight to the blob store (`POST /uploads/{sha256}`)."""
    await identity_of(request)
    return JSONResponse({"direct": request.app.state.uploads.blobs.direct is not None})


async def upload(request: Request) -> JSONResponse:
    """`/uploads/{sha256}`: GET where a streamed upload resumes, POST `{size}` for a direct-upload plan."""
    if request.method == "GET":
        return await upload_state(request)
    await identity_of(request)
    sha256 = check_digest(request.path_params["sha256"])
    size = _announced_size(await json_body(request, 4096), request.app.state.max_blob_size)
    blobs: BlobStore = request.app.state.uploads.blobs
    if blobs.direct is None:
        return JSONResponse({"method": "stream"})  # PUT /blobs/{sha256}, through this server
    if await call(blobs.size, sha256) is not None:
        return JSONResponse({"method": "stored"})
    plan = await call(blobs.direct.begin_upload, sha256, size)
    return JSONResponse(plan.to_json())


async def complete(request: Request) -> JSONResponse:
    """`POST /uploads/{sha256}/complete {size, upload, upload_id?, parts?}`: verify the bytes the store
    received and file them under their digest (422 and nothing stored when they do not match)."""
    await identity_of(request)
    sha256 = check_digest(request.path_params["sha256"])
    body = await json_body(request, 2 << 20)
    size = _announced_size(body, request.app.state.max_blob_size)
    blobs: BlobStore = request.app.state.uploads.blobs
    if blobs.direct is None:
        raise HTTPProblem(409, "not_direct", "this registry takes uploads through PUT /blobs/{sha256}")
    stored = await call(blobs.direct.complete_upload, sha256, size, UploadReceipt.from_json(body))
    return JSONResponse({"sha256": sha256, "size": size, "stored": stored}, status_code=201)


def _announced_size(body: Any, limit: int) -> int:
    size = body.get("size") if isinstance(body, dict) else None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise HTTPProblem(400, "bad_request", "send {\"size\": BYTES} with the blob's size")
    if size > limit:
        raise HTTPProblem(413, "too_large", f"blob of {size} bytes is over this registry's limit of {limit}")
    return size


class Sha256Convertor(Convertor[str]):
    """`{sha256:sha256}` path segments: only 64 lower-case hex digits route here (else 404 or 405)."""

    regex = "[0-9a-f]{64}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("sha256", Sha256Convertor())


async def blob(request: Request) -> Response:
    """`/blobs/{sha256}`: one route for GET, HEAD and PUT so a 405 lists them all in `Allow`."""
    if request.method == "GET":
        return await get(request)
    return await (head(request) if request.method == "HEAD" else put(request))


async def get(request: Request) -> Response:
    """`GET /blobs/{sha256}`: the bytes of a file of a version the caller can see (else 404, as absent)."""
    identity = await identity_of(request)
    sha256 = check_digest(request.path_params["sha256"])
    service = request.app.state.service
    path = await call(service.blob_path, identity, sha256)
    if path is not None:
        return FileResponse(path, media_type="application/octet-stream")
    return StreamingResponse(_read_blob(service, identity, sha256), media_type="application/octet-stream")


async def _read_blob(service: Any, identity: Any, sha256: str) -> AsyncIterator[bytes]:
    """The blob's bytes from a store that is not a local folder (S3), BUFFER at a time, read off the event loop."""
    reader = service.open_blob(identity, sha256)
    fh = await call(reader.__enter__)
    try:
        while chunk := await call(fh.read, BUFFER):
            yield chunk
    finally:
        await call(reader.__exit__, None, None, None)


async def put(request: Request) -> JSONResponse:
    """`PUT /blobs/{sha256}`: store the streamed bytes, verified; resumable with `Content-Range`."""
    identity = await identity_of(request)
    sha256 = check_digest(request.path_params["sha256"])
    start, size = _extent(request, request.app.state.max_blob_size)
    area = request.app.state.uploads
    if (held := await call(area.blobs.size, sha256)) is not None:
        return JSONResponse({"sha256": sha256, "size": held, "stored": False})
    locks: dict[str, asyncio.Lock] = request.app.state.upload_locks
    lock = locks.setdefault(sha256, asyncio.Lock())
    if lock.locked():
        raise HTTPProblem(409, "upload_in_progress", "another upload of this blob is in progress; retry shortly",
                          offset=area.state(sha256)["offset"])
    async with lock:
        upload: Upload = await call(area.begin, sha256, start, size, identity.username)
        if not await _receive(request, upload):
            return JSONResponse({"sha256": sha256, "offset": upload.received}, status_code=400)
        try:
            await call(upload.finish, area.blobs)
        finally:
            await call(area.finished, sha256)
    locks.pop(sha256, None)
    return JSONResponse({"sha256": sha256, "size": size, "stored": True}, status_code=201)


def _extent(request: Request, limit: int) -> tuple[int, int]:
    """(first byte, total size) from `Content-Range`, else the whole blob is the body (`Content-Length`)."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise HTTPProblem(411, "length_required", "send Content-Length (chunked uploads are not accepted)")
    content_range = request.headers.get("content-range")
    if content_range:
        m = _RANGE.match(content_range)
        if not m or int(m[2]) != int(m[3]) - 1 or int(length) != int(m[3]) - int(m[1]):
            raise HTTPProblem(400, "bad_range", "Content-Range must be 'bytes START-(SIZE-1)/SIZE' and match "
                              "Content-Length")
        start, size = int(m[1]), int(m[3])
    else:
        start, size = 0, int(length)
    if size > limit:
        raise TooLarge(f"blob of {size} bytes is over this registry's limit of {limit}")
    return start, size


async def _receive(request: Request, upload: Upload) -> bool:
    """Stream the body into `upload`; False when the client went away (the bytes so far are kept)."""
    writing: asyncio.Future[Any] | None = None
    buffer = bytearray()
    complete = True
    try:
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) >= BUFFER:
                if writing is not None:
                    await writing
                data, buffer = buffer, bytearray()
                writing = asyncio.ensure_future(run_in_threadpool(upload.write, data))
    except ClientDisconnect:
        complete = False
    finally:
        if writing is not None:
            await writing
        await call(upload.write, buffer)
        if not complete:
            await call(upload.close)
    return complete and upload.received == upload.size
