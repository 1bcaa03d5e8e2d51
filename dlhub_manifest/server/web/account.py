"""Signing in and out of the pages with a bearer token the registry accepts (the API's tokens).

The sign-in form posts the token once; the server checks it, keeps it in memory behind a random session id
and sets that id as an HttpOnly, SameSite=Lax cookie (Secure over https). Both forms carry the CSRF token and
are refused when the browser's Origin is another site's. With Globus Auth configured, `/signin/globus` runs the
authorization-code flow instead (`globus_login.py`) and ends in the same kind of session.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qs, quote, unquote, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from dlhub_manifest.registry.service import Identity
from dlhub_manifest.server.common import HTTPProblem
from dlhub_manifest.server.web.caller import html_errors, viewer
from dlhub_manifest.server.web.globus_login import CALLBACK, GlobusWebLogin
from dlhub_manifest.server.web.render import page, secure_cookies
from dlhub_manifest.server.web.session import CSRF_COOKIE, CSRF_FIELD, SESSION_COOKIE, SESSION_SECONDS, csrf_ok

MAX_FORM = 16 << 10  # a token and two short fields
OAUTH_COOKIE = "dlhub_oauth"
OAUTH_SECONDS = 600  # time to finish signing in at Globus Auth


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


def signin_page(request: Request, target: str, error: str = "", status: int = 200) -> Response:
    """The sign-in form (with the Globus link when the server has Globus Auth), optionally with an error."""
    return page(request, "signin.html", {"next": target, "error": error,
                                         "globus": request.app.state.web_login is not None}, status)


@html_errors
async def signin_form(request: Request) -> Response:
    """`GET /signin`: the form (a token field; how to get a token)."""
    await viewer(request)
    return signin_page(request, local_path(request.query_params.get("next")))


@html_errors
async def signin(request: Request) -> Response:
    """`POST /signin`: check the token; on success start a session and go back where the visitor was."""
    fields = await _form(request)
    token, target = fields.get("token", "").strip(), local_path(fields.get("next"))
    return await start_session(request, token, target)


async def start_session(request: Request, token: str, target: str) -> Response:
    """Check `token`; if it is accepted, a new session cookie and a redirect to `target`, else the form again."""
    identity: Identity | None = None
    if token:
        identity = await run_in_threadpool(request.app.state.authenticator.identify, token)
    if identity is None:
        return signin_page(request, target, "That token was not accepted (expired, revoked or unknown). Check it "
                           "and try again.", 401)
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
            Route("/signout", signout, methods=["POST"]), Route("/signin/globus", globus_start, methods=["GET"]),
            Route(CALLBACK, globus_callback, methods=["GET"])]


def _login(request: Request) -> GlobusWebLogin:
    login: GlobusWebLogin | None = request.app.state.web_login
    if login is None:
        raise HTTPProblem(404, "not_found", "this registry does not use Globus Auth; sign in with a token")
    return login


def _callback_url(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}{CALLBACK}"


@html_errors
async def globus_start(request: Request) -> Response:
    """`GET /signin/globus`: off to Globus Auth, remembering (in a short cookie) the state and where to return."""
    login = _login(request)
    state = secrets.token_urlsafe(24)
    target = local_path(request.query_params.get("next"))
    response = RedirectResponse(login.authorize_url(_callback_url(request), state), status_code=303)
    # Lax: the browser sends it back on Globus Auth's top-level redirect to the callback
    response.set_cookie(OAUTH_COOKIE, f"{state}.{quote(target, safe='')}", max_age=OAUTH_SECONDS, httponly=True,
                        samesite="lax", secure=secure_cookies(request), path=CALLBACK)
    return response


@html_errors
async def globus_callback(request: Request) -> Response:
    """`GET /signin/globus/callback?code=..&state=..`: check the state, get the token, start the session."""
    login = _login(request)
    state, _, quoted = request.cookies.get(OAUTH_COOKIE, "").partition(".")  # state is URL-safe base64: no "."
    target = unquote(quoted)
    code, sent = request.query_params.get("code", ""), request.query_params.get("state", "")
    if not state or not csrf_ok(state, sent):
        raise HTTPProblem(400, "bad_request", "this sign-in was not started here or has expired; sign in again")
    if not code:
        reason = request.query_params.get("error_description") or request.query_params.get("error") or "no code"
        return signin_page(request, local_path(target), f"Globus Auth did not sign you in: {reason[:200]}", 401)
    token = await run_in_threadpool(login.exchange, _callback_url(request), code)
    response = await start_session(request, token, local_path(target))
    response.delete_cookie(OAUTH_COOKIE, path=CALLBACK, httponly=True, samesite="lax", secure=secure_cookies(request))
    return response
