"""Client credentials: resolution order, Globus login/logout against globus_sdk.testing responses (no network)."""

from __future__ import annotations

import json
import stat
import urllib.parse
from pathlib import Path

import globus_sdk
import pytest
import responses
from globus_sdk.testing import get_last_request, load_response

from dlhub_manifest.credentials import login as auth
from dlhub_manifest.credentials.tokenstore import TokenStore
from dlhub_manifest.credentials.userconfig import TargetConfig
from dlhub_manifest.errors import AuthError, UsageError
from dlhub_manifest.util.logsafe import redact

TARGET = TargetConfig(url="http://127.0.0.1:9999")
INFO = auth.AuthInfo(globus_scope="urn:globus:auth:scope:transfer.api.globus.org:all",
                     resource_server="transfer.api.globus.org", native_client_id="native-client-1234")



@pytest.fixture
def store(tmp_path: Path) -> TokenStore:
    return TokenStore(tmp_path / "cfg")


def _no_info() -> auth.AuthInfo:
    raise AssertionError("the registry's /auth must not be asked for here")


def test_environment_token_wins_over_everything(store: TokenStore) -> None:
    store.put(TARGET.key, {"kind": "token", "access_token": "stored-token-abcdef"})
    env = {"DLHUB_MANIFEST_TOKEN": "env-token-123456", "GLOBUS_CLIENT_ID": "x", "GLOBUS_CLIENT_SECRET": "y"}
    creds = auth.resolve_credentials(TARGET, _no_info, store=store, environ=env)
    assert creds.source == "DLHUB_MANIFEST_TOKEN"
    assert creds.authorizer is not None
    assert creds.authorizer.get_authorization_header() == "Bearer env-token-123456"
    assert "env-token-123456" not in redact("sending env-token-123456")


def test_client_credentials_fetch_a_token_for_the_advertised_scope(store: TokenStore, mocked: None) -> None:
    meta = load_response(globus_sdk.ConfidentialAppAuthClient.oauth2_client_credentials_tokens).metadata
    env = {"GLOBUS_CLIENT_ID": "ci-client", "GLOBUS_CLIENT_SECRET": "ci-secret-value"}
    creds = auth.resolve_credentials(TARGET, lambda: INFO, store=store, environ=env)
    assert creds.source == "Globus client credentials"
    assert creds.authorizer is not None
    assert creds.authorizer.get_authorization_header() == f"Bearer {meta['access_token']}"
    sent = urllib.parse.parse_qs(str(get_last_request().body))  # type: ignore[union-attr]
    assert sent["grant_type"] == ["client_credentials"]
    assert sent["scope"] == [INFO.globus_scope]
    assert "ci-secret-value" not in redact("secret is ci-secret-value")


def test_client_credentials_without_globus_on_the_server_is_an_auth_error(store: TokenStore) -> None:
    env = {"GLOBUS_CLIENT_ID": "ci-client", "GLOBUS_CLIENT_SECRET": "ci-secret"}
    with pytest.raises(AuthError, match="DLHUB_MANIFEST_TOKEN"):
        auth.resolve_credentials(TARGET, auth.AuthInfo, store=store, environ=env)


def test_stored_static_token_is_used_when_no_environment(store: TokenStore) -> None:
    auth.login_with_token(TARGET, "  static-token-0123456789\n", store=store)
    creds = auth.resolve_credentials(TARGET, _no_info, store=store, environ={})
    assert creds.source == "stored login"
    assert creds.authorizer is not None
    assert creds.authorizer.get_authorization_header() == "Bearer static-token-0123456789"


def test_no_credentials_is_anonymous(store: TokenStore) -> None:
    creds = auth.resolve_credentials(TARGET, _no_info, store=store, environ={})
    assert (creds.authorizer, creds.source) == (None, "none")


def test_globus_login_stores_tokens_0600_and_never_shows_them(store: TokenStore, mocked: None) -> None:
    load_response(globus_sdk.NativeAppAuthClient.oauth2_exchange_code_for_tokens)
    urls: list[str] = []
    summary = auth.login_with_globus(TARGET, INFO, urls.append, lambda: " the-code \n", store=store)
    assert summary["resource_server"] == "transfer.api.globus.org"
    assert "transfer_access_token" not in json.dumps(summary)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(urls[0]).query)
    assert query["client_id"] == ["native-client-1234"]
    assert query["scope"] == [INFO.globus_scope]
    sent = urllib.parse.parse_qs(str(get_last_request().body))  # type: ignore[union-attr]
    assert sent["code"] == ["the-code"]
    assert sent["code_verifier"]
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    record = json.loads(store.path.read_text())[TARGET.key]
    assert record["access_token"] == "transfer_access_token"
    assert record["client_id"] == "native-client-1234"
    assert "transfer_access_token" not in redact("token transfer_access_token")


def test_globus_login_needs_an_advertised_client(store: TokenStore) -> None:
    with pytest.raises(UsageError, match="token-stdin"):
        auth.login_with_globus(TARGET, auth.AuthInfo(), print, lambda: "x", store=store)


def test_logout_revokes_globus_tokens_and_forgets_them(store: TokenStore, mocked: None) -> None:
    load_response(globus_sdk.NativeAppAuthClient.oauth2_revoke_token)
    store.put(TARGET.key, {"kind": "globus", "client_id": "c1", "resource_server": "rs", "scope": "s",
                           "access_token": "acc-token-1234", "refresh_token": "ref-token-5678"})
    message = auth.logout(TARGET, store=store)
    assert "revoked" in message
    revoked = [urllib.parse.parse_qs(str(c.request.body))["token"][0] for c in responses.calls]
    assert revoked == ["ref-token-5678", "acc-token-1234"]
    assert store.get(TARGET.key) is None
    assert auth.logout(TARGET, store=store).startswith("no stored login")


def test_refresh_saves_the_new_access_token(store: TokenStore, mocked: None) -> None:
    # the refresh grant posts to the same token endpoint as the code exchange, so its canned answer serves
    load_response(globus_sdk.NativeAppAuthClient.oauth2_exchange_code_for_tokens)
    store.put(TARGET.key, {"kind": "globus", "client_id": "c1", "resource_server": "transfer.api.globus.org",
                           "scope": "s", "access_token": "old-access-token", "refresh_token": "ref-token-5678",
                           "expires_at_seconds": 1})
    creds = auth.resolve_credentials(TARGET, _no_info, store=store, environ={})
    assert creds.authorizer is not None
    header = creds.authorizer.get_authorization_header()
    assert header == "Bearer transfer_access_token"
    sent = urllib.parse.parse_qs(str(get_last_request().body))  # type: ignore[union-attr]
    assert sent["grant_type"] == ["refresh_token"]
    assert store.get(TARGET.key)["access_token"] == "transfer_access_token"  # type: ignore[index]


def test_token_store_refuses_a_file_others_can_read(store: TokenStore) -> None:
    store.put(TARGET.key, {"kind": "token", "access_token": "abcdefgh1234"})
    store.path.chmod(0o644)
    with pytest.raises(AuthError, match="chmod 600"):
        store.get(TARGET.key)
