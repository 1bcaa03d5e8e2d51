"""Who is looking at a page, and library errors turned into HTML error pages instead of JSON."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from dlhub_manifest.errors import DLHubManifestError, kind_of
from dlhub_manifest.registry.service import Identity
from dlhub_manifest.server.common import HTTPProblem
from dlhub_manifest.server.web.render import page
from dlhub_manifest.server.web.session import SESSION_COOKIE

# Sees public servables only: no namespace, and an id no `visible_to` list can name.
ANONYMOUS = Identity("anonymous:", "")
Handler = Callable[[Request], Awaitable[Response]]


async def viewer(request: Request) -> Identity:
    """The signed-in identity behind the session cookie (its token checked again), else ANONYMOUS."""
    sessions = request.app.state.sessions
    session_id = request.cookies.get(SESSION_COOKIE)
    token = sessions.token(session_id)
    if token is None:
        return ANONYMOUS
    identity: Identity | None = await run_in_threadpool(request.app.state.authenticator.identify, token)
    if identity is None:  # revoked or expired since sign-in: the session ends with it
        sessions.drop(session_id)
        return ANONYMOUS
    request.state.username = identity.username
    return identity


def html_errors(handler: Handler) -> Handler:
    """Render the library's errors (not found, refused, auth unavailable) as an HTML page with their status."""
    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except HTTPProblem as e:
            return error_page(request, e.status, e.message)
        except DLHubManifestError as e:  # the status the API gives the same error (errors.ERRORS)
            return error_page(request, kind_of(e).status, str(e))

    return wrapped


def error_page(request: Request, status: int, message: str) -> Response:
    """An error as a page: what went wrong and where to go from here."""
    return page(request, "error.html", {"status": status, "message": message, "title": _TITLES.get(status, "Error")},
                status)


_TITLES = {400: "Bad request", 401: "Sign-in needed", 403: "Forbidden", 404: "Not found",
           503: "Try again shortly"}


def wants_page(request: Request) -> bool:
    """A browser asking for a page (HTML first, no bearer token) rather than an API client asking for JSON."""
    if "authorization" in request.headers:
        return False
    accept = request.headers.get("accept", "").lower()
    html, json = accept.find("text/html"), accept.find("json")
    return html >= 0 and (json < 0 or html < json)
