"""Signing in to the pages through Globus Auth (authorization-code flow), with Globus Auth answered by `responses`."""

from __future__ import annotations

import urllib.parse
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from web_support import fill

from dlhub_manifest.server.app import Settings, create_app
from dlhub_manifest.server.auth import GlobusIntrospection
from dlhub_manifest.server.web.globus_login import GlobusWebLogin
from dlhub_manifest.server.web.session import SESSION_COOKIE

with warnings.catch_warnings():  # this Starlette prefers the httpx2 fork; httpx works the same for these tests
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

CLIENT = "d3b3c6a4-5a0e-4f5e-9d0e-000000000042"
SCOPE = f"https://auth.globus.org/scopes/{CLIENT}/all"
TOKEN_URL = "https://auth.globus.org/v2/oauth2/token"
USER = "bbbbbbbb-0000-4000-8000-000000000002"
HTML = {"accept": "text/html"}


@pytest.fixture
def client(tmp_path: Path, mocked: None) -> Iterator[TestClient]:
    root = tmp_path / "registry"
    fill(root)
    settings = Settings(root, GlobusIntrospection(CLIENT, "server-secret-xyz"),
                        web_login=GlobusWebLogin(CLIENT, "server-secret-xyz", SCOPE))
    with TestClient(create_app(settings), base_url="https://registry.example") as c:
        yield c


def _globus_grants(code: str) -> None:
    responses.add(responses.POST, TOKEN_URL, match=[responses.matchers.urlencoded_params_matcher(
        {"grant_type": "authorization_code", "code": code,
         "redirect_uri": "https://registry.example/signin/globus/callback"}, allow_blank=True)],
        json={"access_token": "web-access-token-0123456789", "expires_in": 172800, "resource_server": CLIENT,
              "scope": SCOPE, "token_type": "Bearer", "other_tokens": []})
    responses.add(responses.POST, TOKEN_URL + "/introspect", json={
        "active": True, "aud": [CLIENT], "sub": USER, "username": "bob", "identity_set": [USER]})


def test_globus_sign_in_ends_in_a_session_that_sees_private_servables(client: TestClient) -> None:
    assert 'href="/signin/globus?next=/s/bob/secret"' in client.get("/signin?next=/s/bob/secret", headers=HTML).text
    start = client.get("/signin/globus?next=/s/bob/secret", follow_redirects=False)
    authorize = urllib.parse.urlsplit(start.headers["location"])
    query = urllib.parse.parse_qs(authorize.query)
    assert (authorize.netloc, authorize.path) == ("auth.globus.org", "/v2/oauth2/authorize")
    assert query["client_id"] == [CLIENT] and query["scope"] == [SCOPE] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["https://registry.example/signin/globus/callback"]
    _globus_grants("the-code")
    back = client.get(f"/signin/globus/callback?code=the-code&state={query['state'][0]}", follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/s/bob/secret"
    assert f"{SESSION_COOKIE}=" in back.headers["set-cookie"] and "web-access-token" not in back.headers["set-cookie"]
    page = client.get("/s/bob/secret", headers=HTML)
    assert page.status_code == 200 and "Secret band model" in page.text


def test_a_callback_with_another_state_or_an_error_starts_no_session(client: TestClient) -> None:
    client.get("/signin/globus", follow_redirects=False)
    forged = client.get("/signin/globus/callback?code=c&state=forged", headers=HTML)
    assert forged.status_code == 400 and "was not started here" in forged.text
    state = client.cookies.get("dlhub_oauth", path="/signin/globus/callback").split(".")[0]
    denied = client.get(f"/signin/globus/callback?error=access_denied&state={state}", headers=HTML)
    assert denied.status_code == 401 and "Globus Auth did not sign you in: access_denied" in denied.text
    assert SESSION_COOKIE not in client.cookies


def test_globus_links_are_absent_without_globus(tmp_path: Path) -> None:
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text("alice-token-0123456789abcdef: {username: alice}\n")
    from dlhub_manifest.server.auth import TokensFile

    with TestClient(create_app(Settings(tmp_path / "registry", TokensFile(tokens)))) as c:
        assert "sign in with Globus" not in c.get("/signin", headers=HTML).text
        assert c.get("/signin/globus", headers=HTML).status_code == 404
