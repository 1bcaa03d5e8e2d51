"""The registry over HTTP: a Starlette app, a thin adapter over `RegistryService` (the one code path).

Routes and shapes are documented in `schemas/registry-openapi.json`, served at `/openapi.json`.
Every route but `/auth`, `/healthz` and `/openapi.json` needs a bearer token; reads only show what
`Identity.can_see` allows, and a publication may only target the caller's own namespace.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dlhub_manifest.errors import AuthError, DLHubManifestError, UsageError
from dlhub_manifest.registry.blobstore import BlobStoreConfig, open_blob_store
from dlhub_manifest.registry.browse import MAX_LIMIT, SEARCH_LIMIT, Listing
from dlhub_manifest.registry.quota import Quotas
from dlhub_manifest.registry.service import Identity, RegistryService
from dlhub_manifest.repository.policy import FetchPolicy
from dlhub_manifest.server import blobs as http_blobs
from dlhub_manifest.server.auth import Authenticator
from dlhub_manifest.server.common import (
    HTTPProblem,
    call,
    identity_of,
    json_body,
    on_library_error,
    on_unexpected,
)
from dlhub_manifest.server.uploads import UploadArea
from dlhub_manifest.server.web import routes as web
from dlhub_manifest.server.web.caller import error_page, wants_page
from dlhub_manifest.server.web.globus_login import GlobusWebLogin
from dlhub_manifest.server.web.headers import SecurityHeaders
from dlhub_manifest.server.web.session import Sessions
from dlhub_manifest.server.web.taskpage import task_page
from dlhub_manifest.util.resources import data_dir

OPENAPI_FILE = "registry-openapi.json"
MAX_JSON = 32 << 20
DEFAULT_MAX_BLOB = 10 << 30


@dataclass
class Settings:
    """What `serve` configures: where the registry is, who is who, limits, and what `/auth` advertises."""

    root: Path
    authenticator: Authenticator
    database: str | None = None
    max_blob_size: int = DEFAULT_MAX_BLOB
    globus: dict[str, Any] | None = None
    web_login: GlobusWebLogin | None = None
    blob_store: BlobStoreConfig | None = None
    extra_routes: list[Route] = field(default_factory=list)
    fetch_policy: FetchPolicy = field(default_factory=FetchPolicy)
    workers: WorkerSettings = field(default_factory=lambda: WorkerSettings())
    quotas: Quotas = field(default_factory=lambda: Quotas())


@dataclass(frozen=True)
class WorkerSettings:
    """How many task workers run, how many tasks one owner may have running, and how long a task may run."""

    count: int = 2
    owner_limit: int | None = 1
    deadline: float | None = 1800.0


def openapi_document() -> dict[str, Any]:
    """The API description kept in the repository (and shipped in the wheel)."""
    with (data_dir("schemas") / OPENAPI_FILE).open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(request.app.state.openapi)


async def health(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def auth_info(request: Request) -> JSONResponse:
    """`GET /auth`: how to get a token this registry accepts (public, so `login` can ask it)."""
    return JSONResponse({"methods": ["bearer"], "globus": request.app.state.globus})


async def whoami(request: Request) -> JSONResponse:
    identity = await identity_of(request)
    info = await call(request.app.state.service.whoami, identity)
    info.pop("registry", None)  # the server's folder is none of the client's business
    return JSONResponse(info)


async def publish(request: Request) -> JSONResponse:
    """`POST /publications`: queue a publication; the `Idempotency-Key` header makes retries safe."""
    identity = await identity_of(request)
    body = await json_body(request, MAX_JSON)
    if not isinstance(body, dict):
        raise UsageError("the body must be a JSON object with `document` and `files` or `repository`")
    _check_namespace(identity, body)
    key = request.headers.get("idempotency-key")
    if key:
        body["idempotency_key"] = key
    task_id = await call(request.app.state.service.publish, identity, body)
    return JSONResponse({"task_id": task_id}, status_code=202)


def _check_namespace(identity: Identity, body: dict[str, Any]) -> None:
    """Refuse (403) a request that names an owner other than the caller, in `owner` or `document.dlhub.owner`."""
    document = body.get("document")
    named = [body.pop("owner", None)]
    if isinstance(document, dict) and isinstance(document.get("dlhub"), dict):
        named.append(document["dlhub"].get("owner"))
    if any(o is not None and not isinstance(o, str) for o in named):
        raise UsageError("`owner` must be a string (your own namespace)")
    others = sorted(o for o in named if o not in (None, identity.username))
    if others:
        raise AuthError(f"{identity.username!r} may not publish into the namespace of {others[0]!r}; publish "
                        f"under your own namespace ({identity.username})")


async def task(request: Request) -> Response:
    """`GET /tasks/{id}`: the task as JSON; a browser asking for HTML without a token gets the task's page."""
    if wants_page(request):
        return await task_page(request)
    identity = await identity_of(request)
    return JSONResponse(await call(request.app.state.service.task, identity, request.path_params["task_id"]))


async def servables(request: Request) -> Response:
    """`GET /servables?limit=N&after=OWNER/NAME`: one page by OWNER/NAME; `next` is the next page's `after`."""
    identity = await identity_of(request)
    service: RegistryService = request.app.state.service
    limit = _int_param(request, "limit", MAX_LIMIT)
    after = request.query_params.get("after")
    page = await call(lambda: service.list_page(identity, limit=limit, after=after))
    return _listing_response("servables", page)


async def servable(request: Request) -> JSONResponse:
    """`GET /servables/{owner}/{name}[/versions/{version}]`: invisible and absent look the same (404)."""
    identity = await identity_of(request)
    p = request.path_params
    found = await call(request.app.state.service.get_servable, identity, p["owner"], p["name"], p.get("version"))
    return JSONResponse(found)


async def versions(request: Request) -> JSONResponse:
    identity = await identity_of(request)
    p = request.path_params
    found = await call(request.app.state.service.get_servable, identity, p["owner"], p["name"], None)
    return JSONResponse({"servable": found["servable"], "versions": found["versions"], "latest": found["latest"]})


async def search(request: Request) -> Response:
    """`GET /search?q=words&limit=N`: the best `limit` matches (default SEARCH_LIMIT)."""
    identity = await identity_of(request)
    service: RegistryService = request.app.state.service
    text = request.query_params.get("q", "")
    limit = _int_param(request, "limit", SEARCH_LIMIT)
    found = await call(lambda: service.search_page(identity, text, limit=limit))
    return _listing_response("results", found, paged=False)


def _listing_response(key: str, listing: Listing, *, paged: bool = True) -> Response:
    """`{key: [...], "next": ...}` from the summaries' stored JSON text (10,000 of them are not re-encoded)."""
    tail = f',"next":{json.dumps(listing.next, ensure_ascii=False)}' if paged else ""
    return Response(f'{{"{key}":{listing.json_array()}{tail}}}', media_type="application/json")


def _int_param(request: Request, name: str, default: int) -> int:
    """A whole-number query parameter (400 when it is something else); range checks are the service's."""
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        if text.isascii() and text.isdigit():
            return int(text)
    except ValueError:  # more digits than int() accepts
        pass
    raise UsageError(f"`{name}` must be a positive whole number (got {text[:40]!r})")


ROUTES = [
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/healthz", health, methods=["GET"]),
    Route("/auth", auth_info, methods=["GET"]),
    Route("/whoami", whoami, methods=["GET"]),
    Route("/blobs/missing", http_blobs.missing, methods=["POST"]),
    Route("/blobs/{sha256:sha256}", http_blobs.blob, methods=["GET", "HEAD", "PUT"]),
    Route("/uploads", http_blobs.upload_options, methods=["GET"]),
    Route("/uploads/{sha256:sha256}", http_blobs.upload, methods=["GET", "POST"]),
    Route("/uploads/{sha256:sha256}/complete", http_blobs.complete, methods=["POST"]),
    Route("/publications", publish, methods=["POST"]),
    Route("/tasks/{task_id}", task, methods=["GET"]),
    Route("/servables", servables, methods=["GET"]),
    Route("/servables/{owner}/{name}", servable, methods=["GET"]),
    Route("/servables/{owner}/{name}/versions", versions, methods=["GET"]),
    Route("/servables/{owner}/{name}/versions/{version}", servable, methods=["GET"]),
    Route("/search", search, methods=["GET"]),
]


def create_app(settings: Settings) -> Starlette:
    """The ASGI app for one registry folder."""
    app = Starlette(routes=[*ROUTES, *web.routes(), *settings.extra_routes], exception_handlers={
        DLHubManifestError: on_library_error, Exception: on_unexpected,
        404: _not_found, 405: _not_allowed,
    }, middleware=[Middleware(SecurityHeaders)])
    blobs = open_blob_store(settings.root, settings.blob_store)
    app.state.service = RegistryService(settings.root, database=settings.database, blobs=blobs,
                                        policy=settings.fetch_policy,
                                        owner_storage=settings.quotas.owner_storage)
    app.state.uploads = UploadArea(settings.root, blobs, settings.quotas)
    app.state.upload_locks = {}
    app.state.authenticator = settings.authenticator
    app.state.max_blob_size = settings.max_blob_size
    app.state.globus = settings.globus
    app.state.openapi = openapi_document()
    app.state.sessions = Sessions()
    app.state.web_login = settings.web_login
    return app


async def _not_found(request: Request, _exc: Exception) -> Response:
    if wants_page(request):
        return error_page(request, 404, f"There is no page at {request.url.path}.")
    return await on_library_error(request, HTTPProblem(404, "not_found", f"no route {request.url.path}"))


async def _not_allowed(request: Request, exc: Exception) -> Response:
    response = await on_library_error(request, HTTPProblem(405, "method_not_allowed",
                                                           f"{request.method} is not allowed on {request.url.path}"))
    response.headers.update(getattr(exc, "headers", None) or {})  # RFC 9110: a 405 lists the methods in Allow
    return response
