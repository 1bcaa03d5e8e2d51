"""The registry's web pages without a browser: escaping of a hostile corpus, security headers, CSRF, sign-in
sessions, private servables as 404, filters and paging, diffs, citations, HTML that parses strictly."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import html5lib
import pytest
import yaml
from starlette.applications import Starlette
from web_support import BOB_ID, PUBLIC_PAGES, fill, register, variant

from dlhub_manifest.registry.browse import Filters
from dlhub_manifest.registry.service import Identity, RegistryService
from dlhub_manifest.server.app import Settings, create_app
from dlhub_manifest.server.auth import TokensFile
from dlhub_manifest.server.web.session import CSRF_COOKIE, SESSION_COOKIE

with warnings.catch_warnings():  # this Starlette prefers the httpx2 fork; httpx works the same for these tests
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

TOKENS = {"alice": "alice-token-0123456789abcdef", "bob": "bob-token-0123456789abcdef0"}
HTML = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
OUR_SCRIPT = '<script src="/static/app.js" defer></script>'


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web") / "registry"
    fill(root)
    return root


def app_for(root: Path, tmp_path: Path) -> Starlette:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text(f"{TOKENS['alice']}: {{username: alice}}\n{TOKENS['bob']}: {{id: '{BOB_ID}', username: bob}}\n")
    return create_app(Settings(root, TokensFile(tokens)))


@pytest.fixture
def client(root: Path, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(app_for(root, tmp_path), base_url="http://127.0.0.1:8000") as c:
        yield c


def sign_in(client: TestClient, user: str, **extra: str) -> None:
    client.get("/signin", headers=HTML)
    response = client.post("/signin", data={"token": TOKENS[user], "csrf_token": client.cookies[CSRF_COOKIE],
                                            "next": "/u/bob", **extra}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/u/bob"


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    """(tag, attributes) of every element, from a strict HTML5 parse (a parse error fails the test)."""
    tree = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)
    return [(e.tag, dict(e.attrib)) for e in tree.iter() if isinstance(e.tag, str)]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_hostile_text_never_becomes_markup_and_pages_parse_strictly(client: TestClient, path: str) -> None:
    response = client.get(path, headers=HTML)
    assert response.status_code == (404 if "nobody" in path else 200)
    assert response.text.count("<script") == 1 and OUR_SCRIPT in response.text
    for tag, attrs in elements(response.text):
        assert tag not in ("iframe", "svg", "img", "object", "embed"), (tag, attrs)
        assert not [a for a in attrs if a.lower().startswith("on")], (tag, attrs)
        for name in ("href", "src", "action"):
            value = attrs.get(name, "").strip().lower()
            assert not value.startswith(("javascript:", "data:")), (tag, attrs)
        if tag == "script":
            assert attrs == {"src": "/static/app.js", "defer": ""}


def test_hostile_servable_shows_the_attacks_as_text(client: TestClient) -> None:
    text = client.get("/s/mallory/hostile@1.0.0", headers=HTML).text
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in text  # the title, escaped, visible
    assert "&lt;img src=x onerror=alert('raw-img')&gt;" in text  # raw HTML in Markdown stays text
    assert '<a href="https://example.org/ok" rel="nofollow noopener noreferrer">ok</a>' in text  # a safe link works
    assert "[click me](javascript:alert('link'))" in text  # an unsafe one stays text
    assert "<h3>Heading &lt;script&gt;" in text  # a Markdown heading sits below the page's own


def test_every_answer_carries_a_csp_without_unsafe_inline(client: TestClient) -> None:
    for path in ("/", "/s/alice/scaler_v2.0", "/static/app.js", "/static/style.css", "/healthz", "/nowhere"):
        headers = client.get(path, headers=HTML).headers
        csp = headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
                          "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"):
            assert directive in csp
        assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "same-origin"


def test_private_servable_is_a_404_to_others_everywhere_and_visible_to_its_owner(client: TestClient) -> None:
    paths = ["/s/bob/secret", "/s/bob/secret@1.0.0", "/s/bob/secret/diff", "/s/bob/secret/cite/bibtex", "/u/bob"]
    missing = client.get("/s/bob/nothing-here", headers=HTML)
    for path in paths:
        response = client.get(path, headers=HTML)
        assert response.status_code == 404, path
    assert client.get("/s/bob/secret", headers=HTML).text.replace("secret", "X") == missing.text.replace(
        "nothing-here", "X")  # private and absent look the same
    assert "Secret band model" not in client.get("/?q=band", headers=HTML).text
    api = client.get("/servables/bob/secret", headers={"authorization": f"Bearer {TOKENS['alice']}"})
    assert api.status_code == 404  # as the API says to alice
    sign_in(client, "alice")
    assert client.get("/s/bob/secret", headers=HTML).status_code == 404
    client.cookies.clear()
    sign_in(client, "bob")
    page = client.get("/s/bob/secret", headers=HTML)
    assert page.status_code == 200 and "Secret band model" in page.text and "private" in page.text
    assert "Secret band model" in client.get("/?q=band", headers=HTML).text


def test_sign_in_sets_a_session_cookie_not_the_token_and_sign_out_ends_it(client: TestClient) -> None:
    client.get("/signin", headers=HTML)
    csrf = client.cookies[CSRF_COOKIE]
    response = client.post("/signin", data={"token": TOKENS["bob"], "csrf_token": csrf}, follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert TOKENS["bob"] not in cookie and "Secure" not in cookie  # plain http on 127.0.0.1: not Secure
    assert '<a href="/u/bob">bob</a>' in client.get("/", headers=HTML).text
    assert client.post("/signout", data={}, follow_redirects=False).status_code == 403  # no CSRF token
    out = client.post("/signout", data={"csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303 and f'{SESSION_COOKIE}=""' in out.headers["set-cookie"]
    assert client.get("/s/bob/secret", headers=HTML).status_code == 404


def test_https_makes_the_session_cookie_secure(root: Path, tmp_path: Path) -> None:
    with TestClient(app_for(root, tmp_path), base_url="https://registry.example") as c:
        assert "Secure" in c.get("/signin", headers=HTML).headers["set-cookie"]  # the CSRF cookie
        response = c.post("/signin", data={"token": TOKENS["bob"], "csrf_token": c.cookies[CSRF_COOKIE]},
                          follow_redirects=False)
        assert response.status_code == 303 and "Secure" in response.headers["set-cookie"]


@pytest.mark.parametrize(("cookie", "field", "origin"), [
    (True, None, None), (True, "forged-value", None), (False, "forged-value", None),
    (True, "same", "https://evil.example"),
])
def test_sign_in_refuses_forms_without_a_matching_csrf_token_or_from_another_site(
        client: TestClient, cookie: bool, field: str | None, origin: str | None) -> None:
    if cookie:
        client.get("/signin", headers=HTML)
    data = {"token": TOKENS["bob"]}
    if field:
        data["csrf_token"] = client.cookies.get(CSRF_COOKIE, "x") if field == "same" else field
    response = client.post("/signin", data=data, headers={"origin": origin} if origin else {},
                           follow_redirects=False)
    assert response.status_code == 403 and SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_a_wrong_token_is_refused_on_the_form_and_next_stays_on_this_site(client: TestClient) -> None:
    client.get("/signin", headers=HTML)
    csrf = client.cookies[CSRF_COOKIE]
    wrong = client.post("/signin", data={"token": "not-a-token-at-all", "csrf_token": csrf})
    assert wrong.status_code == 401 and "That token was not accepted" in wrong.text
    away = client.post("/signin", data={"token": TOKENS["bob"], "csrf_token": csrf, "next": "//evil.example/x"},
                       follow_redirects=False)
    assert away.headers["location"] == "/"


def test_search_filters_and_pages(client: TestClient, tmp_path: Path) -> None:
    def names(html: str) -> list[str]:
        return re.findall(r'<p class="meta"><code>([^<]+)</code>', html)

    assert names(client.get("/?type=sklearn", headers=HTML).text) == ["carol/band-gap"]
    assert names(client.get("/?type=PyTorch", headers=HTML).text) == ["carol/alloys"]  # the manifest's type
    assert names(client.get("/?type=torch+model", headers=HTML).text) == ["carol/alloys"]  # or the label
    assert names(client.get("/?domain=chemistry", headers=HTML).text) == ["carol/band-gap"]
    assert names(client.get("/?keyword=band+gap", headers=HTML).text) == ["carol/band-gap"]
    assert names(client.get("/?keyword=band", headers=HTML).text) == []  # a keyword filter is the whole keyword
    assert names(client.get("/?owner=carol&q=alloy", headers=HTML).text) == ["carol/alloys"]
    assert names(client.get("/?q=band", headers=HTML).text)[0] == "carol/band-gap"  # ranked: title first


def test_a_huge_file_index_is_cut_on_the_page(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    register(root, "dave", "1.0.0", variant("big", "Big"), files={f"part-{i:04d}": b"x" for i in range(1003)})
    with TestClient(app_for(root, tmp_path)) as c:
        text = c.get("/s/dave/big", headers=HTML).text
    assert "Files (1003, 1003 B)" in text and text.count('<code class="hash">') == 1000
    assert "And 3 more: the whole index is in the" in text


def test_results_come_in_pages_of_twenty(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    for i in range(45):
        register(root, "dave", "1.0.0", variant(f"m{i:02d}", f"Model {i:02d}"))
    service = RegistryService(root)
    with TestClient(app_for(root, tmp_path)) as c:
        first = c.get("/?owner=dave", headers=HTML).text
        assert "45 results" in first and "Page 1 of 3" in first and 'rel="next"' in first
        last = c.get("/?owner=dave&page=3", headers=HTML).text
        assert last.count('class="meta"') == 5 and 'rel="prev"' in last and 'rel="next"' not in last
        for odd in ("0", "-1", "x", "99999999999"):  # not a page number: the first page
            assert "Page 1 of 3" in c.get(f"/?owner=dave&page={odd}", headers=HTML).text
    found = service.find(Identity("x", "x"), "model", Filters(owner="dave"), limit=20, offset=40)
    assert found.total == 45 and [i["servable"] for i in found.items] == [f"dave/m{i}" for i in range(40, 45)]


def test_task_page_for_its_submitter_json_for_api_clients_and_404_for_others(client: TestClient, root: Path) -> None:
    service = RegistryService(root)
    queue = service.queue
    task_id = queue.create(BOB_ID, "bob", "files", {"document": {}}, "bob/thing", None)
    queue.note(task_id, "checking <b>files</b>")
    assert client.get(f"/tasks/{task_id}", headers=HTML).status_code == 404  # anonymous
    api = client.get(f"/tasks/{task_id}", headers={"authorization": f"Bearer {TOKENS['bob']}", **HTML})
    assert api.headers["content-type"] == "application/json" and api.json()["status"] == "queued"
    sign_in(client, "bob")
    page = client.get(f"/tasks/{task_id}", headers=HTML)
    assert page.status_code == 200 and "checking &lt;b&gt;files&lt;/b&gt;" in page.text
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page.text  # followed without JS
    seen = client.get(f"/tasks/{task_id}/feed").json()["count"]
    queue.note(task_id, "uploading")
    feed = client.get(f"/tasks/{task_id}/feed?after={seen}").json()
    assert [m["text"] for m in feed["messages"]] == ["uploading"] and feed == {**feed, "done": False,
                                                                               "count": seen + 1}
    client.cookies.clear()
    sign_in(client, "alice")
    assert client.get(f"/tasks/{task_id}", headers=HTML).status_code == 404
    assert client.get(f"/tasks/{task_id}/feed").status_code == 404


def test_diff_page_shows_changed_fields_and_files(client: TestClient) -> None:
    text = client.get("/s/alice/scaler_v2.0/diff?from=1.0.0&to=1.1.0", headers=HTML).text
    assert "<code>datacite.descriptions[0].description</code>" in text
    assert "Multiplies **every** element." in text
    assert "added <code>README.md</code> (9 B)" in text and "changed <code>mypkg/model.py</code>" in text
    default = client.get("/s/alice/scaler_v2.0/diff", headers=HTML).text  # latest against the one before
    assert "Changes from" in default and "servable.methods.triple.parameters.factor" in default
    assert "removed <code>README.md</code>" in default


def test_servable_page_card_versions_and_citations(client: TestClient) -> None:
    text = client.get("/s/alice/scaler_v2.0@1.0.0", headers=HTML).text
    assert '<a href="https://orcid.org/0000-0002-1825-0097"' in text and "Argonne National Laboratory" in text
    assert '<a href="https://doi.org/10.1000/xyz123" rel="nofollow noopener noreferrer">10.1000/xyz123</a>' in text
    assert f'<a href="https://github.com/alice/scaler/commit/{"a" * 40}"' in text
    assert "dlhub-manifest run alice/scaler_v2.0@1.0.0 --input @input.json --target http://127.0.0.1:8000" in text
    assert "result = api.run(&#39;alice/scaler_v2.0@1.0.0&#39;, inputs, target=&#39;http://127.0.0.1:8000&#39;)" in text
    assert "latest is v2.0.0" in text and "<code>list of float</code>" in text
    picked = client.get("/s/alice/scaler_v2.0?version=1.1.0", headers=HTML, follow_redirects=False)
    assert picked.status_code == 303 and picked.headers["location"] == "/s/alice/scaler_v2.0@1.1.0"
    bib = client.get("/s/alice/scaler_v2.0@1.0.0/cite/bibtex")
    assert bib.headers["content-disposition"] == 'attachment; filename="citation.bib"'
    assert bib.text.startswith("@software{scaler_v2_0_") and "version = {1.0.0}" in bib.text
    cff = client.get("/s/alice/scaler_v2.0/cite/cff")
    assert 'filename="CITATION.cff"' in cff.headers["content-disposition"]
    assert yaml.safe_load(cff.text)["version"] == "2.0.0"
