"""Signing in to the pages with Globus Auth: the OAuth2 authorization-code flow of the server's own client.

The browser is sent to Globus Auth for the scope API clients use, comes back to `/signin/globus/callback` with
a code, and the server exchanges it for an access token with its confidential client. That token then goes
through the same check as any bearer token (introspection) and becomes a server-side session, exactly as a
pasted token does. The redirect URI `https://HOST/signin/globus/callback` must be registered with the client.
"""

from __future__ import annotations

from dataclasses import dataclass

from dlhub_manifest.errors import AuthError
from dlhub_manifest.util.logsafe import register_secret

CALLBACK = "/signin/globus/callback"


@dataclass(frozen=True)
class GlobusWebLogin:
    """The server's confidential client and the scope whose tokens the registry accepts."""

    client_id: str
    client_secret: str
    scope: str

    def _flow(self, redirect_uri: str, state: str = "_default") -> object:
        from globus_sdk import ConfidentialAppAuthClient
        from globus_sdk.services.auth.flow_managers import GlobusAuthorizationCodeFlowManager

        client = ConfidentialAppAuthClient(self.client_id, self.client_secret, app_name="dlhub-manifest-server")
        return GlobusAuthorizationCodeFlowManager(client, redirect_uri, requested_scopes=self.scope, state=state)

    def authorize_url(self, redirect_uri: str, state: str) -> str:
        """Where to send the browser: Globus Auth's consent page for our scope, coming back with `state`."""
        return str(self._flow(redirect_uri, state).get_authorize_url())  # type: ignore[attr-defined]

    def exchange(self, redirect_uri: str, code: str) -> str:
        """The access token for this registry that Globus Auth grants for `code` (AuthError when it refuses)."""
        from globus_sdk import GlobusAPIError, NetworkError

        try:
            tokens = self._flow(redirect_uri).exchange_code_for_tokens(code)  # type: ignore[attr-defined]
            token = str(tokens.by_resource_server[self.client_id]["access_token"])
        except (GlobusAPIError, NetworkError, KeyError) as e:
            raise AuthError(f"Globus Auth did not complete the sign-in ({type(e).__name__}); try again") from e
        register_secret(token)
        return token
