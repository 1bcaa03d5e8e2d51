"""Server-side authentication: tokens file and Globus introspection (globus_sdk.testing, no network)."""

from __future__ import annotations

import hashlib
import urllib.parse
from pathlib import Path

import globus_sdk
import pytest
import responses
from globus_sdk.testing import get_last_request, load_response

from dlhub_manifest.errors import UsageError
from dlhub_manifest.server.auth import Chain, GlobusIntrospection, TokensFile
from dlhub_manifest.server.run import build_authenticator
from dlhub_manifest.util.logsafe import redact

ALICE = "alice-token-0123456789abcdef"



def test_tokens_file_maps_plain_and_hashed_tokens(tmp_path: Path) -> None:
    bob_hash = hashlib.sha256(b"bob-secret-token-0123456789").hexdigest()
    path = tmp_path / "tokens.yaml"
    path.write_text(f"{ALICE}: {{id: 'urn:x:alice', username: alice, groups: [lab]}}\n"
                    f"'sha256:{bob_hash}': {{username: bob}}\n")
    tokens = TokensFile(path)
    alice = tokens.identify(ALICE)
    assert alice is not None and (alice.id, alice.username, alice.groups) == ("urn:x:alice", "alice", ("lab",))
    bob = tokens.identify("bob-secret-token-0123456789")
    assert bob is not None and (bob.id, bob.username) == ("token:bob", "bob")
    assert tokens.identify("alice-token-0123456789abcdeX") is None
    assert ALICE not in redact(f"Authorization: {ALICE}")


@pytest.mark.parametrize(("text", "message"), [
    ("short: {username: a}\n", "shorter than 16"),
    ("alice-token-0123456789abcdef: {id: x}\n", "needs at least a 'username'"),
    ("alice-token-0123456789abcdef: {username: a, groups: lab}\n", "must be a list"),
    ("[1, 2]\n", "must map each token"),
    ("a: [\n", "cannot be read"),
])
def test_bad_tokens_file_is_a_usage_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "tokens.yaml"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        TokensFile(path)


def test_introspection_maps_an_active_token_and_caches_it(mocked: None) -> None:
    meta = load_response(globus_sdk.ConfidentialAppAuthClient.oauth2_token_introspect).metadata
    now = [1000.0]
    globus = GlobusIntrospection(meta["client_id"], "server-secret-xyz", ttl=60, clock=lambda: now[0])
    identity = globus.identify("user-access-token-1")
    assert identity is not None
    assert identity.id == f"urn:globus:auth:identity:{meta['id']}"
    assert identity.username == meta["username"]
    sent = urllib.parse.parse_qs(str(get_last_request().body))  # type: ignore[union-attr]
    assert sent["token"] == ["user-access-token-1"] and sent["include"] == ["identity_set"]
    assert get_last_request().headers["Authorization"].startswith("Basic ")  # type: ignore[union-attr]
    globus.identify("user-access-token-1")
    assert len(responses.calls) == 1  # served from the cache
    now[0] += 61
    globus.identify("user-access-token-1")
    assert len(responses.calls) == 2  # expired: asked again


def test_introspection_refuses_tokens_meant_for_another_service(mocked: None) -> None:
    load_response(globus_sdk.ConfidentialAppAuthClient.oauth2_token_introspect)
    assert GlobusIntrospection("some-other-client-id", "server-secret-xyz").identify("tok-for-someone-else") is None


def test_inactive_token_is_refused(mocked: None) -> None:
    responses.add(responses.POST, "https://auth.globus.org/v2/oauth2/token/introspect", json={"active": False})
    assert GlobusIntrospection("cid", "server-secret-xyz").identify("expired-token-123") is None


def test_chain_tries_tokens_file_before_globus(tmp_path: Path, mocked: None) -> None:
    meta = load_response(globus_sdk.ConfidentialAppAuthClient.oauth2_token_introspect).metadata
    path = tmp_path / "tokens.yaml"
    path.write_text(f"{ALICE}: {{username: alice}}\n")
    chain = Chain([TokensFile(path), GlobusIntrospection(meta["client_id"], "server-secret-xyz")])
    assert chain.identify(ALICE).username == "alice"  # type: ignore[union-attr]
    assert len(responses.calls) == 0
    assert chain.identify("a-globus-token-123").username == meta["username"]  # type: ignore[union-attr]


def test_serve_needs_some_way_to_check_tokens() -> None:
    with pytest.raises(UsageError, match="--tokens FILE"):
        build_authenticator(None, None)
