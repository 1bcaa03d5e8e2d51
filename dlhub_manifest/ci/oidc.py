"""Trusted publishing from GitHub Actions: the job's OpenID Connect ID token stands in for a token secret.

A workflow with `permissions: id-token: write` gets ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN; asking that URL for an
ID token with the registry's audience returns a short-lived JWT naming the repository, ref and workflow, which a
registry that trusts the repository (`serve --trusted-publishers`) accepts. Used only when no token secret or
Globus client is given.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, MutableMapping
from urllib.parse import quote

from dlhub_manifest.errors import AuthError
from dlhub_manifest.util.logsafe import register_secret

REQUEST_URL_ENV = "ACTIONS_ID_TOKEN_REQUEST_URL"
REQUEST_TOKEN_ENV = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
TOKEN_ENV = "DLHUB_MANIFEST_TOKEN"
DEFAULT_AUDIENCE = "dlhub-manifest"


def use_trusted_publishing(env: Mapping[str, str], audience: str = DEFAULT_AUDIENCE,
                           into: MutableMapping[str, str] | None = None) -> bool:
    """Put the job's ID token in DLHUB_MANIFEST_TOKEN (of `into`, default os.environ) when no other credential
    is configured and the job may request one; True when it did."""
    if env.get(TOKEN_ENV, "").strip() or (env.get("GLOBUS_CLIENT_ID") and env.get("GLOBUS_CLIENT_SECRET")):
        return False
    if not env.get(REQUEST_URL_ENV) or not env.get(REQUEST_TOKEN_ENV):
        return False
    (os.environ if into is None else into)[TOKEN_ENV] = id_token(env, audience)
    return True


def id_token(env: Mapping[str, str], audience: str) -> str:
    """Ask the Actions runtime for an ID token for `audience`."""
    import urllib.error
    import urllib.request

    register_secret(env[REQUEST_TOKEN_ENV])
    url = env[REQUEST_URL_ENV]
    request = urllib.request.Request(f"{url}{'&' if '?' in url else '?'}audience={quote(audience)}", headers={
        "Authorization": f"bearer {env[REQUEST_TOKEN_ENV]}", "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - the runtime's own https URL
            value = json.load(answer).get("value")
    except (urllib.error.URLError, OSError, ValueError, AttributeError) as e:
        raise AuthError(f"cannot get the job's OpenID Connect ID token ({type(e).__name__}); give the workflow "
                        "`permissions: id-token: write`, or pass a `token` secret") from e
    if not isinstance(value, str) or value.count(".") != 2:
        raise AuthError("the Actions runtime returned no ID token; give the workflow `permissions: id-token: write`")
    register_secret(value)
    return value
