"""A real server on 127.0.0.1 with Globus introspection while Globus Auth is down (5xx) or unreachable: a request
with a token it has to check gets 503 "try again" and the server log has no traceback; tokens-file tokens still work.

The server runs in this process (uvicorn in a thread) so `responses` can stand in for Globus Auth.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import globus_sdk
import pytest
import requests
import responses
import uvicorn
from globus_sdk.testing import RegisteredResponse, load_response
from registry_server import TOKENS, free_port, write_tokens

from dlhub_manifest.server.app import Settings, create_app
from dlhub_manifest.server.auth import Chain, GlobusIntrospection, TokensFile

INTROSPECT = "https://auth.globus.org/v2/oauth2/token/introspect"
TRY_AGAIN = {"code": "auth_unavailable", "message": "cannot reach Globus Auth to check the token; try again"}


@contextlib.contextmanager
def _serving(settings: Settings) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(URL, server client id): Globus introspection behind a tokens file, Globus Auth mocked by `responses`."""
    responses.start()
    responses.add_passthru("http://127.0.0.1")  # the test's own requests reach the real server
    try:
        client_id = load_response(globus_sdk.ConfidentialAppAuthClient.oauth2_token_introspect).metadata["client_id"]
        responses.reset()  # each test says how Globus Auth answers; the registry above only gave us the client id
        responses.add_passthru("http://127.0.0.1")
        chain = Chain([TokensFile(write_tokens(tmp_path / "tokens.yaml")),
                       GlobusIntrospection(client_id, "server-secret-xyz", retries=0)])
        with _serving(Settings(root=tmp_path / "registry", authenticator=chain)) as url:
            yield url, client_id
    finally:
        responses.stop()
        responses.reset()


def _whoami(url: str, token: str) -> requests.Response:
    return requests.get(url + "/whoami", headers={"Authorization": f"Bearer {token}"}, timeout=30)


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert all(r.exc_info is None and r.levelno < logging.ERROR for r in caplog.records), caplog.text
    assert "cannot reach Globus Auth to check a token" in caplog.text


def test_globus_auth_answering_5xx_gives_503_try_again(server: tuple[str, str],
                                                       caplog: pytest.LogCaptureFixture) -> None:
    url, _ = server
    RegisteredResponse(service="auth", path="/v2/oauth2/token/introspect", method="POST", status=502,
                       json={"errors": [{"code": "bad_gateway"}]}).add()
    answer = _whoami(url, "an-unknown-globus-token-123")
    assert answer.status_code == 503
    assert answer.json() == TRY_AGAIN
    _no_traceback(caplog)


def test_unreachable_globus_auth_gives_503_and_the_token_works_once_it_is_back(
        server: tuple[str, str], caplog: pytest.LogCaptureFixture) -> None:
    url, _ = server
    responses.add(responses.POST, INTROSPECT, body=requests.ConnectionError("connection refused"))
    answer = _whoami(url, "user-access-token-1")
    assert (answer.status_code, answer.json()) == (503, TRY_AGAIN)
    _no_traceback(caplog)
    meta = load_response(globus_sdk.ConfidentialAppAuthClient.oauth2_token_introspect).metadata
    back = _whoami(url, "user-access-token-1")
    assert back.status_code == 200 and back.json()["username"] == meta["username"]


def test_tokens_file_tokens_still_work_while_globus_auth_is_down(server: tuple[str, str]) -> None:
    url, _ = server
    responses.add(responses.POST, INTROSPECT, body=requests.ConnectionError("connection refused"))
    answer = _whoami(url, TOKENS["alice"])
    assert answer.status_code == 200 and answer.json()["username"] == "alice"
    assert len([c for c in responses.calls if c.request.url == INTROSPECT]) == 0
