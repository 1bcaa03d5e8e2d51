"""Client credentials for an HTTP registry: which token to send, Globus login and logout.

Order (first found wins): `DLHUB_MANIFEST_TOKEN` (a bearer token, what CI and the GitHub Action use),
Globus client credentials from `GLOBUS_CLIENT_ID`/`GLOBUS_CLIENT_SECRET`, then the tokens stored by
`dlhub-manifest login`. Every token is registered with logsafe the moment it is read.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dlhub_manifest.credentials.tokenstore import TokenStore
from dlhub_manifest.credentials.userconfig import TargetConfig, config_dir
from dlhub_manifest.errors import AuthError, UsageError
from dlhub_manifest.util.logsafe import register_secret

if TYPE_CHECKING:
    import globus_sdk

TOKEN_ENV = "DLHUB_MANIFEST_TOKEN"
CLIENT_ID_ENV = "GLOBUS_CLIENT_ID"
CLIENT_SECRET_ENV = "GLOBUS_CLIENT_SECRET"
NATIVE_CLIENT_ENV = "DLHUB_MANIFEST_CLIENT_ID"
APP_NAME = "dlhub-manifest"


@dataclass(frozen=True)
class AuthInfo:
    """What a registry advertises at `GET /auth`: the Globus scope its tokens need and a login client."""

    globus_scope: str | None = None
    resource_server: str | None = None
    native_client_id: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuthInfo:
        """Parse the `/auth` answer; a registry without Globus Auth has `globus: null`."""
        globus = data.get("globus") or {}
        return cls(globus.get("scope"), globus.get("resource_server"), globus.get("native_client_id"))


@dataclass(frozen=True)
class Credentials:
    """An authorizer (None: anonymous) and where it came from, for `whoami` and error messages."""

    authorizer: globus_sdk.authorizers.GlobusAuthorizer | None
    source: str


def default_store() -> TokenStore:
    """The token store in the user's config dir."""
    return TokenStore(config_dir())


def resolve_credentials(target: TargetConfig, auth_info: Callable[[], AuthInfo], *,
                        store: TokenStore | None = None, environ: Mapping[str, str] | None = None) -> Credentials:
    """Pick the credentials for `target` in the documented order; `auth_info` is only called when needed."""
    env = os.environ if environ is None else environ
    token = env.get(TOKEN_ENV, "").strip()
    if token:
        register_secret(token)
        return Credentials(bearer_authorizer(token), TOKEN_ENV)
    client_id, secret = env.get(CLIENT_ID_ENV, "").strip(), env.get(CLIENT_SECRET_ENV, "").strip()
    if client_id and secret:
        register_secret(secret)
        scope = target.scope or auth_info().globus_scope
        if not scope:
            raise AuthError(f"{CLIENT_ID_ENV}/{CLIENT_SECRET_ENV} are set but {target.url} does not use Globus "
                            f"Auth; set {TOKEN_ENV} instead, or give the target a 'scope' in the config file")
        return Credentials(client_credentials_authorizer(client_id, secret, scope), "Globus client credentials")
    record = (store or default_store()).get(target.key)
    if record is not None:
        return Credentials(_stored_authorizer(target, record, store or default_store()), "stored login")
    return Credentials(None, "none")


def bearer_authorizer(token: str) -> globus_sdk.authorizers.GlobusAuthorizer:
    """An authorizer that sends `token` as is (registered for redaction first, refused when it cannot be sent)."""
    from globus_sdk import AccessTokenAuthorizer

    register_secret(token)
    check_token(token)
    return AccessTokenAuthorizer(token)


def check_token(token: str) -> None:
    """A bearer token is visible ASCII only; anything else (a pasted line break) is refused without showing it.

    An HTTP library would otherwise refuse the header with the token in its message, or fail in a way that
    looks like a network problem.
    """
    bad = next((c for c in token if not 0x21 <= ord(c) <= 0x7E), None)
    if bad is not None:
        for line in token.splitlines():
            register_secret(line.strip() or None)
        raise AuthError(f"the token holds a character that cannot be sent (U+{ord(bad):04X}, e.g. a line break "
                        f"from copying); set {TOKEN_ENV} (or `login --token`) to the token alone, on one line")


def client_credentials_authorizer(client_id: str, secret: str, scope: str) -> globus_sdk.authorizers.GlobusAuthorizer:
    """A self-renewing authorizer for a confidential client (CI, the GitHub Action)."""
    from globus_sdk import ClientCredentialsAuthorizer, ConfidentialAppAuthClient

    client = ConfidentialAppAuthClient(client_id=client_id, client_secret=secret, app_name=APP_NAME)
    return ClientCredentialsAuthorizer(client, scope, on_refresh=_register_token_response)


def _stored_authorizer(target: TargetConfig, record: dict[str, Any],
                       store: TokenStore) -> globus_sdk.authorizers.GlobusAuthorizer:
    """The authorizer for a stored login: refreshing (and re-saving) Globus tokens when possible."""
    if record.get("kind") != "globus" or not record.get("refresh_token"):
        return bearer_authorizer(str(record["access_token"]))
    from globus_sdk import RefreshTokenAuthorizer

    def save(response: globus_sdk.OAuthRefreshTokenResponse) -> None:
        _register_token_response(response)
        fresh = response.by_resource_server.get(record["resource_server"])
        if fresh:
            store.put(target.key, {**record, **_token_fields(fresh)})

    return RefreshTokenAuthorizer(record["refresh_token"], _native_client(record["client_id"]),
                                  access_token=record.get("access_token"),
                                  expires_at=record.get("expires_at_seconds"), on_refresh=save)


def _native_client(client_id: str) -> globus_sdk.NativeAppAuthClient:
    from globus_sdk import NativeAppAuthClient

    return NativeAppAuthClient(client_id=client_id, app_name=APP_NAME)


def _register_token_response(response: Any) -> None:
    for data in response.by_resource_server.values():
        register_secret(data.get("access_token"))
        register_secret(data.get("refresh_token"))


def _token_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: data.get(k) for k in ("access_token", "refresh_token", "expires_at_seconds") if data.get(k)}


def login_with_token(target: TargetConfig, token: str, store: TokenStore | None = None) -> None:
    """Store a static bearer token for `target` (self-hosted registries with a tokens file)."""
    token = token.strip()
    if not token:
        raise UsageError("no token given on standard input")
    register_secret(token)
    check_token(token)
    (store or default_store()).put(target.key, {"kind": "token", "access_token": token, "stored_at": int(time.time())})


def login_with_globus(target: TargetConfig, info: AuthInfo, show_url: Callable[[str], None],
                      ask_code: Callable[[], str], store: TokenStore | None = None) -> dict[str, Any]:
    """Run the Globus native-app login (paste-the-code, works headless) and store the tokens 0600."""
    scope = target.scope or info.globus_scope
    client_id = target.client_id or os.environ.get(NATIVE_CLIENT_ENV) or info.native_client_id
    if not scope or not client_id:
        raise UsageError(f"{target.url} does not advertise Globus Auth (scope and native client id); "
                         "use 'dlhub-manifest login --token-stdin' or set scope and client_id for the target")
    client = _native_client(client_id)
    client.oauth2_start_flow(requested_scopes=scope, refresh_tokens=True, prefill_named_grant=APP_NAME)
    show_url(str(client.oauth2_get_authorize_url()))
    tokens = client.oauth2_exchange_code_for_tokens(ask_code().strip())
    _register_token_response(tokens)
    data = _pick_resource_server(tokens.by_resource_server, info.resource_server)
    record = {"kind": "globus", "client_id": client_id, "scope": scope,
              "resource_server": data["resource_server"], **_token_fields(data)}
    (store or default_store()).put(target.key, record)
    return {"resource_server": data["resource_server"], "expires_at_seconds": data.get("expires_at_seconds")}


def _pick_resource_server(by_rs: Mapping[str, Any], wanted: str | None) -> Mapping[str, Any]:
    if wanted and wanted in by_rs:
        return dict(by_rs[wanted])
    others = [rs for rs in by_rs if rs != "auth.globus.org"] or list(by_rs)
    if not others:
        raise AuthError("Globus Auth returned no token; try 'dlhub-manifest login' again")
    return dict(by_rs[others[0]])


def logout(target: TargetConfig, store: TokenStore | None = None) -> str:
    """Revoke (best effort) and delete the stored tokens for `target`; says what happened."""
    record = (store or default_store()).delete(target.key)
    if record is None:
        return f"no stored login for {target.url}"
    if record.get("kind") != "globus":
        return f"removed the stored token for {target.url}"
    return f"removed the stored login for {target.url}" + _revoke(record)


def _revoke(record: Mapping[str, Any]) -> str:
    import globus_sdk

    client = _native_client(record["client_id"])
    try:
        for name in ("refresh_token", "access_token"):
            if record.get(name):
                client.oauth2_revoke_token(record[name])
    except globus_sdk.GlobusError as e:
        return f" (Globus Auth could not revoke it: {type(e).__name__}; it expires on its own)"
    return " and revoked its tokens with Globus Auth"
