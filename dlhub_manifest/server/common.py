"""What every route of the HTTP app shares: errors as JSON, the caller's identity, threadpool calls.

Library errors map to status codes in one table, so a route only raises; the message is the library's
own (written for the user), never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from dlhub_manifest.errors import (
    AuthError,
    ConflictError,
    DLHubManifestError,
    InvalidManifestError,
    NotFoundError,
    RegistryError,
    UsageError,
)
from dlhub_manifest.registry.quota import QuotaExceeded
from dlhub_manifest.registry.service import Identity
from dlhub_manifest.server.auth import AuthUnavailable
from dlhub_manifest.server.uploads import DigestMismatch, OffsetMismatch

log = logging.getLogger("dlhub_manifest.registry.http")
T = TypeVar("T")

# most specific first: the first matching class decides the status and the code
STATUS: list[tuple[type[DLHubManifestError], int, str]] = [
    (AuthUnavailable, 503, "auth_unavailable"),
    (QuotaExceeded, 413, "quota_exceeded"),
    (OffsetMismatch, 409, "offset_mismatch"),
    (DigestMismatch, 422, "digest_mismatch"),
    (InvalidManifestError, 422, "invalid_document"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (AuthError, 403, "forbidden"),
    (UsageError, 400, "bad_request"),
    (RegistryError, 400, "refused"),
    (DLHubManifestError, 400, "refused"),
]


class HTTPProblem(Exception):
    """An answer other than success, raised by a route: status, machine code, message for people."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def problem_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """The one error body of the API: `{code, message, ...}` (globus-sdk reads code and message)."""
    headers = {"WWW-Authenticate": 'Bearer realm="dlhub-manifest"'} if status == 401 else None
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status, headers=headers)


async def on_problem(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPProblem)
    return problem_response(exc.status, exc.code, exc.message, **exc.extra)


async def on_library_error(_request: Request, exc: Exception) -> JSONResponse:
    status, code = next((s, c) for cls, s, c in STATUS if isinstance(exc, cls))
    extra: dict[str, Any] = {"offset": exc.offset} if isinstance(exc, OffsetMismatch) else {}
    if isinstance(exc, InvalidManifestError):
        extra["diagnostics"] = [d.format_text() for d in exc.diagnostics]
    return problem_response(status, code, str(exc), **extra)


async def on_unexpected(request: Request, _exc: Exception) -> JSONResponse:
    log.exception("internal error on %s %s", request.method, request.url.path)
    return problem_response(500, "internal", "the registry hit an internal error; see the server log")


async def identity_of(request: Request) -> Identity:
    """The caller behind `Authorization: Bearer <token>`; 401 when absent or not accepted."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPProblem(401, "unauthenticated", "this registry needs a token: send 'Authorization: Bearer "
                          "<token>' (GET /auth says how to get one)")
    identity: Identity | None = await run_in_threadpool(request.app.state.authenticator.identify, token.strip())
    if identity is None:
        raise HTTPProblem(401, "invalid_token", "the token was not accepted (expired, revoked or unknown); "
                          "log in again or use a valid token")
    return identity


async def call(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking registry operation (SQLite, disk) off the event loop."""
    return await run_in_threadpool(fn, *args)


async def json_body(request: Request, limit: int) -> Any:
    """The request's JSON body, refused above `limit` bytes before it is all read."""
    import json

    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise HTTPProblem(413, "too_large", f"the request body is over {limit} bytes")
    try:
        return json.loads(data)
    except ValueError as e:
        raise HTTPProblem(400, "bad_json", f"the request body is not JSON: {e}") from e
    except RecursionError as e:  # nesting deeper than the parser's recursion limit: no document is that deep
        raise HTTPProblem(400, "bad_json", "the request body nests too deeply to be a publication") from e
