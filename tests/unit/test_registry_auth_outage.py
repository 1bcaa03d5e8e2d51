"""Globus Auth down or unreachable: introspection says "try again" (AuthUnavailable), never "bad token", and
nothing is cached, so the token works again as soon as Globus Auth answers."""

from __future__ import annotations

import globus_sdk
import pytest
import requests
import responses
from globus_sdk.testing import RegisteredResponse, load_response

from dlhub_manifest.server.auth import AuthUnavailable, GlobusIntrospection

INTROSPECT = "https://auth.globus.org/v2/oauth2/token/introspect"



def _globus(client_id: str = "cid") -> GlobusIntrospection:
    return GlobusIntrospection(client_id, "server-secret-xyz", retries=0)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_an_auth_outage_is_try_again_not_an_unknown_token(mocked: None, status: int,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    RegisteredResponse(service="auth", path="/v2/oauth2/token/introspect", method="POST", status=status,
                       json={"errors": [{"code": "unavailable"}]}).add()
    with pytest.raises(AuthUnavailable, match=r"^cannot reach Globus Auth to check the token; try again$"):
        _globus().identify("some-user-token-123")
    ours = [r for r in caplog.records if r.name == "dlhub_manifest.server.auth"]
    assert [r.getMessage() for r in ours] == [f"cannot reach Globus Auth to check a token (HTTP {status})"]
    assert all(r.exc_info is None for r in caplog.records)  # an outage is not our bug: no traceback in the log


@pytest.mark.parametrize("error", [requests.ConnectionError("connection refused"), requests.Timeout("timed out")])
def test_an_unreachable_globus_auth_is_try_again(mocked: None, error: Exception,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    responses.add(responses.POST, INTROSPECT, body=error)
    with pytest.raises(AuthUnavailable):
        _globus().identify("some-user-token-123")
    assert "cannot reach Globus Auth to check a token (Globus" in caplog.text
    assert all(r.exc_info is None for r in caplog.records)


def test_the_outage_is_not_cached(mocked: None) -> None:
    responses.add(responses.POST, INTROSPECT, body=requests.ConnectionError("connection refused"))
    meta = load_response(globus_sdk.ConfidentialAppAuthClient.oauth2_token_introspect).metadata
    globus = _globus(meta["client_id"])
    with pytest.raises(AuthUnavailable):
        globus.identify("user-access-token-1")
    identity = globus.identify("user-access-token-1")  # Globus Auth is back: asked again, not a cached failure
    assert identity is not None and identity.username == meta["username"]


def test_a_refusal_of_the_servers_own_credentials_is_not_an_outage(mocked: None) -> None:
    RegisteredResponse(service="auth", path="/v2/oauth2/token/introspect", method="POST", status=401,
                       json={"error": "invalid_client"}).add()
    with pytest.raises(globus_sdk.AuthAPIError) as info:
        _globus().identify("some-user-token-123")
    assert info.value.http_status == 401  # a misconfigured server must stay loud (500), not look like an outage
