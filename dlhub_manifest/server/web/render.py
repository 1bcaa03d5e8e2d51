"""Pages from Jinja2 templates shipped as package data, with autoescaping always on.

Every page gets the signed-in user (or None) and the CSRF token its forms echo; the CSRF cookie is set on
the answer when the browser has none yet.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from dlhub_manifest.server.web.session import CSRF_COOKIE, CSRF_FIELD, new_csrf_token

if TYPE_CHECKING:
    from jinja2 import Environment


@cache
def environment() -> Environment:
    """The template environment (built once): package templates, autoescape for every file, strict blocks."""
    from jinja2 import Environment, PackageLoader, StrictUndefined

    return Environment(loader=PackageLoader("dlhub_manifest.server.web", "templates"), autoescape=True,
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, auto_reload=False)


def secure_cookies(request: Request) -> bool:
    """Cookies are `Secure` when the page was served over https (behind a proxy: its X-Forwarded-Proto,
    which uvicorn trusts from 127.0.0.1). A plain-http registry on 127.0.0.1 gets non-Secure cookies, or the
    browser would never send them back."""
    return request.url.scheme == "https"


def page(request: Request, template: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render `template` with `context` plus the user, CSRF token and path; set the CSRF cookie if missing."""
    csrf = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
    html = environment().get_template(template).render(
        **context, user=getattr(request.state, "username", None), csrf=csrf, csrf_field=CSRF_FIELD,
        path=request.url.path)
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    if CSRF_COOKIE not in request.cookies:
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=secure_cookies(request),
                            path="/")
    return response
