"""What every route of the HTTP app shares: errors as JSON, the caller's identity, threadpool calls.

Library errors map to status codes in `errors.ERRORS` (the table the client reads them back with), so a route
only raises; the message is the library's own (written for the user), never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse

from dlhub_manifest.errors import DLHubManifestError, TooLarge, kind_of
from dlhub_manifest.registry.service import Identity

log = logging.getLogger("dlhub_manifest.registry.http")
T = TypeVar("T")


class HTTPProblem(DLHubManifestError):
    """An answer only the HTTP layer gives (no token, body too large, no such route): status, code, message."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def problem_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    """The one error body of the API: `{code, message, ...}` (globus-sdk reads code and message)."""
    headers = {"WWW-Authenticate": 'Bearer realm="dlhub-manifest"'} if status == 401 else None
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status, headers=headers)


async def on_library_error(request: Request, exc: Exception) -> JSONResponse:
    """A library error as its row of `errors.ERRORS` says: status, code, the library's message."""
    assert isinstance(exc, DLHubManifestError)
    if isinstance(exc, HTTPProblem):
        return problem_response(exc.status, exc.code, exc.message, **exc.extra)
    kind = kind_of(exc)
    if kind.status >= 500:  # a server fault: the operator needs to know (503: only that it was busy)
        level = logging.WARNING if kind.status == 503 else logging.ERROR
        log.log(level, "%s on %s %s: %s", kind.code, request.method, request.url.path, exc)
    return problem_response(kind.status, kind.code, str(exc), **exc.wire_fields())


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
            raise TooLarge(f"the request body is over {limit} bytes")
    try:
        return json.loads(data)
    except ValueError as e:
        raise HTTPProblem(400, "bad_json", f"the request body is not JSON: {e}") from e
    except RecursionError as e:  # nesting deeper than the parser's recursion limit: no document is that deep
        raise HTTPProblem(400, "bad_json", "the request body nests too deeply to be a publication") from e
