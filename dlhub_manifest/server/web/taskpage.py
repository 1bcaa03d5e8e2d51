"""A task's page: its status and messages, followed live until it ends.

Without JavaScript the page refreshes itself every few seconds while the task runs (a `<meta refresh>` inside
`<noscript>`); with it, `app.js` polls `/tasks/ID/feed?after=N` and appends only the new messages.
Tasks are their submitter's: anyone else (and an anonymous visitor) gets a 404, as from the API.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dlhub_manifest.registry.contracts import TaskInfo, TaskStatus
from dlhub_manifest.server.common import call
from dlhub_manifest.server.web.caller import html_errors, viewer
from dlhub_manifest.server.web.render import page
from dlhub_manifest.server.web.view import mapping, when

REFRESH_SECONDS = 2


async def _task(request: Request) -> TaskInfo:
    identity = await viewer(request)
    task: TaskInfo = await call(request.app.state.service.task, identity, request.path_params["task_id"])
    return task


def _messages(task: TaskInfo, after: int = 0) -> list[dict[str, str]]:
    return [{"time": when(m.get("time")), "level": str(m.get("level", "info")), "text": str(m.get("text", ""))}
            for m in task["messages"][after:]]


def _link(task: TaskInfo) -> str:
    """The page of the version a successful task published ("" until then)."""
    result = mapping(task.get("result"))
    servable, version = result.get("servable"), result.get("version")
    return f"/s/{servable}@{version}" if task["status"] == TaskStatus.SUCCEEDED and servable and version else ""


@html_errors
async def task_page(request: Request) -> Response:
    """`/tasks/ID` in a browser: the task so far; `app.js` follows it live."""
    task = await _task(request)
    return page(request, "task.html", {
        "task": task, "messages": _messages(task), "done": TaskStatus(task["status"]).done, "refresh": REFRESH_SECONDS,
        "servable": str(task.get("servable") or ""), "link": _link(task), "created": when(task.get("created_at"))})


@html_errors
async def feed(request: Request) -> Response:
    """`/tasks/ID/feed?after=N`: status and the messages after the first N, as JSON for the page's script."""
    task = await _task(request)
    text = request.query_params.get("after", "0")
    after = int(text) if text.isascii() and text.isdigit() and len(text) < 9 else 0
    return JSONResponse({"status": task["status"], "done": TaskStatus(task["status"]).done,
                         "count": len(task["messages"]), "messages": _messages(task, after), "link": _link(task)},
                        headers={"Cache-Control": "no-store"})
