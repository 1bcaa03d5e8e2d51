"""The pages: home and search, a servable (any version), a diff between versions, citations, an owner.

Each handler reads through `RegistryService` with the viewer's identity, so a page shows exactly what the
API would show that caller: a private servable is a 404 to others here as there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from dlhub_manifest.build.inspect import INSPECTORS
from dlhub_manifest.registry.browse import Filters
from dlhub_manifest.registry.service import RegistryService
from dlhub_manifest.server.common import HTTPProblem, call
from dlhub_manifest.server.web import account, taskpage
from dlhub_manifest.server.web.caller import html_errors, viewer
from dlhub_manifest.server.web.citation import FORMATS, citation_text
from dlhub_manifest.server.web.diff import version_diff
from dlhub_manifest.server.web.render import page
from dlhub_manifest.server.web.view import servable_view, summary_view

PAGE_SIZE = 20
MAX_PAGE = 500  # 10,000 results deep: beyond that, narrow the search
FILTERS = ("type", "domain", "keyword", "owner")
MAX_QUERY = 200


def _text(request: Request, name: str) -> str:
    return request.query_params.get(name, "").strip()[:MAX_QUERY]


def _page_number(request: Request) -> int:
    """`?page=N` (1 when absent or not a page number; at most MAX_PAGE)."""
    text = request.query_params.get("page", "1")
    if not (text.isascii() and text.isdigit() and len(text) < 6):
        return 1
    return min(max(int(text), 1), MAX_PAGE)


def _pager(request: Request, number: int, total: int) -> dict[str, Any]:
    """Links to the previous and next result pages, keeping the query and filters."""
    kept = {k: v for k, v in request.query_params.items() if k != "page" and v}
    pages = max(1, -(-total // PAGE_SIZE))

    def link(n: int) -> str:
        return request.url.path + "?" + urlencode({**kept, "page": n}) if 1 <= n <= min(pages, MAX_PAGE) else ""

    return {"number": number, "pages": pages, "previous": link(number - 1), "next": link(number + 1)}


async def _results(request: Request, text: str, filters: Filters) -> dict[str, Any]:
    identity = await viewer(request)
    service: RegistryService = request.app.state.service
    number = _page_number(request)
    found = await call(lambda: service.find(identity, text, filters, limit=PAGE_SIZE,
                                            offset=(number - 1) * PAGE_SIZE))
    return {"results": [summary_view(i) for i in found.items], "total": found.total,
            "pager": _pager(request, number, found.total)}


def type_labels() -> dict[str, str]:
    """Manifest servable types (`sklearn`) → the label documents carry (`Scikit-learn estimator`)."""
    return {key: kind.label for key, kind in INSPECTORS.items()}


@html_errors
async def home(request: Request) -> Response:
    """`/`: the search box, filters and one page of ranked results (every visible servable without a query).
    The type filter takes the manifest's type (`sklearn`) or the document's label, in any case."""
    text = _text(request, "q")
    chosen = {k: _text(request, k) for k in FILTERS}
    labels = type_labels()
    wanted = {**chosen, "type": labels.get(chosen["type"].lower(), chosen["type"])}
    context = await _results(request, text, Filters(**{k: v or None for k, v in wanted.items()}))
    return page(request, "home.html", {**context, "q": text, "filters": chosen, "types": labels,
                                       "searched": bool(text or any(chosen.values()))})


@html_errors
async def owner_page(request: Request) -> Response:
    """`/u/OWNER`: the servables of one owner that the viewer can see."""
    owner = request.path_params["owner"]
    context = await _results(request, "", Filters(owner=owner))
    if not context["total"]:
        raise HTTPProblem(404, "not_found", f"{owner} has no servables you can see")
    return page(request, "owner.html", {**context, "owner": owner})


def _ref(request: Request) -> tuple[str, str, str | None]:
    """(owner, name, version or None) from `/s/OWNER/NAME` or `/s/OWNER/NAME@VERSION`."""
    name, at, version = request.path_params["ref"].partition("@")
    return request.path_params["owner"], name, version if at else None


async def _servable(request: Request) -> dict[str, Any]:
    identity = await viewer(request)
    service: RegistryService = request.app.state.service
    owner, name, version = _ref(request)
    found, history = await call(lambda: (service.get_servable(identity, owner, name, version),
                                         service.history(identity, owner, name)))
    registry_url = f"{request.url.scheme}://{request.url.netloc}"
    page_url = f"{registry_url}/s/{quote(found['owner'], safe='')}/{quote(found['name'], safe='')}@{found['version']}"
    return {**servable_view(found, history, registry_url), "document": found["document"], "found": found,
            "page_url": page_url}


@html_errors
async def servable_page(request: Request) -> Response:
    """`/s/OWNER/NAME[@VERSION]`: the model card of one version (default the latest); `?version=V` (the
    version picker, which works without JavaScript) redirects to `@V`."""
    picked = _text(request, "version")
    if picked and "@" not in request.path_params["ref"]:
        owner, name = (quote(request.path_params[k], safe="") for k in ("owner", "ref"))
        return RedirectResponse(f"/s/{owner}/{name}@{quote(picked, safe='')}", status_code=303)
    view = await _servable(request)
    bibtex = citation_text(view["found"], "bibtex", view["page_url"])
    return page(request, "servable.html", {"s": view, "bibtex": bibtex})


@html_errors
async def citation(request: Request) -> Response:
    """`/s/OWNER/NAME[@VERSION]/cite/{bibtex,cff}`: the citation as a file to download."""
    fmt = request.path_params["fmt"]
    if fmt not in FORMATS:
        raise HTTPProblem(404, "not_found", f"no citation format {fmt!r}; use one of: {', '.join(FORMATS)}")
    view = await _servable(request)
    filename, media_type = FORMATS[fmt]
    return Response(citation_text(view["found"], fmt, view["page_url"]), media_type=f"{media_type}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@html_errors
async def diff_page(request: Request) -> Response:
    """`/s/OWNER/NAME/diff?from=A&to=B`: what changed from A to B (defaults: the latest and the one before)."""
    identity = await viewer(request)
    service: RegistryService = request.app.state.service
    owner, name = request.path_params["owner"], request.path_params["name"]
    history = [h["version"] for h in await call(service.history, identity, owner, name)]
    new = _text(request, "to") or history[-1]
    position = history.index(new) if new in history else 0
    old = _text(request, "from") or history[max(position - 1, 0)]
    a = await call(service.get_servable, identity, owner, name, old)
    b = await call(service.get_servable, identity, owner, name, new)
    return page(request, "diff.html", {"servable": f"{owner}/{name}", "owner": owner, "name": name,
                                       "old": a["version"], "new": b["version"], "versions": history,
                                       "diff": version_diff(a, b)})


def routes() -> list[BaseRoute]:
    """The web routes, mounted by the app beside the API's."""
    static = StaticFiles(packages=[("dlhub_manifest.server.web", "static")])
    return [
        Route("/", home, methods=["GET"]),
        Route("/s/{owner}/{ref}", servable_page, methods=["GET"]),
        Route("/s/{owner}/{ref}/cite/{fmt}", citation, methods=["GET"]),
        Route("/s/{owner}/{name}/diff", diff_page, methods=["GET"]),
        Route("/u/{owner}", owner_page, methods=["GET"]),
        Route("/tasks/{task_id}/feed", taskpage.feed, methods=["GET"]),
        *account.routes(),
        Mount("/static", app=static, name="static"),
    ]
