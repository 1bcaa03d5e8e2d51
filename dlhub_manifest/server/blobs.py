"""Blob routes: ask which digests are missing, how much of an upload arrived, and stream bytes in.

`PUT /blobs/{sha256}` is hashed while it is received and refused on mismatch; `Content-Range` resumes an
interrupted upload at the server's offset. Receiving and writing overlap (double buffering): the event
loop reads the next buffer while a worker thread hashes and writes the previous one.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response

from dlhub_manifest.errors import TooLarge
from dlhub_manifest.registry.blobs import check_digest
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
    size = request.app.state.uploads.blobs.size(check_digest(request.path_params["sha256"]))
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
    return JSONResponse(request.app.state.uploads.state(sha256))


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
    path = await call(request.app.state.service.blob_path, identity, sha256)
    return FileResponse(path, media_type="application/octet-stream")


async def put(request: Request) -> JSONResponse:
    """`PUT /blobs/{sha256}`: store the streamed bytes, verified; resumable with `Content-Range`."""
    identity = await identity_of(request)
    sha256 = check_digest(request.path_params["sha256"])
    start, size = _extent(request, request.app.state.max_blob_size)
    area = request.app.state.uploads
    if (held := area.blobs.size(sha256)) is not None:
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
