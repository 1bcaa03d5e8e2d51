"""Signing in and out of the pages with a bearer token the registry accepts (the API's tokens).

The sign-in form posts the token once; the server checks it, keeps it in memory behind a random session id
and sets that id as an HttpOnly, SameSite=Lax cookie (Secure over https). Both forms carry the CSRF token and
are refused when the browser's Origin is another site's.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from dlhub_manifest.registry.service import Identity
from dlhub_manifest.server.common import HTTPProblem
from dlhub_manifest.server.web.caller import html_errors, viewer
from dlhub_manifest.server.web.render import page, secure_cookies
from dlhub_manifest.server.web.session import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, SESSION_SECONDS, csrf_ok

MAX_FORM = 16 << 10  # a token and two short fields


def local_path(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never `//host` or `https://host`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else "/"


async def _form(request: Request) -> dict[str, str]:
    """An url-encoded form body (first value of each field), after the CSRF and Origin checks."""
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise HTTPProblem(403, "forbidden", "this form was sent from another site; use the registry's own page")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise HTTPProblem(413, "too_large", "the form is too large")
    fields = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), max_num_fields=10).items()}
    if not csrf_ok(request.cookies.get(CSRF_COOKIE), fields.get(CSRF_FIELD)):
        raise HTTPProblem(403, "forbidden", "the form has expired or was not sent from this site: reload the page "
                          "and send it again")
    return fields


@html_errors
async def signin_form(request: Request) -> Response:
    """`GET /signin`: the form (a token field; how to get a token)."""
    await viewer(request)
    return page(request, "signin.html", {"next": local_path(request.query_params.get("next")), "error": ""})


@html_errors
async def signin(request: Request) -> Response:
    """`POST /signin`: check the token; on success start a session and go back where the visitor was."""
    fields = await _form(request)
    token, target = fields.get("token", "").strip(), local_path(fields.get("next"))
    identity: Identity | None = None
    if token:
        identity = await run_in_threadpool(request.app.state.authenticator.identify, token)
    if identity is None:
        return page(request, "signin.html", {"next": target, "error": "That token was not accepted (expired, "
                                             "revoked or unknown). Check it and try again."}, 401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(SESSION_COOKIE, request.app.state.sessions.create(token), max_age=SESSION_SECONDS,
                        httponly=True, samesite="lax", secure=secure_cookies(request), path="/")
    return response


@html_errors
async def signout(request: Request) -> Response:
    """`POST /signout`: end the session and drop its cookie."""
    await _form(request)
    request.app.state.sessions.drop(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure_cookies(request))
    return response


def routes() -> list[BaseRoute]:
    return [Route("/signin", signin_form, methods=["GET"]), Route("/signin", signin, methods=["POST"]),
            Route("/signout", signout, methods=["POST"])]
