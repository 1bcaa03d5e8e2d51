"""Server side authentication: a bearer token becomes an `Identity`, or nothing.

Two sources, tried in order: a tokens file (self-hosting, tests) mapping a token, or `sha256:<hex>` of
one, to `{id, username, groups}`; and Globus Auth token introspection with the server's confidential
client. Introspection answers are cached for a short TTL so a busy client costs one call a minute; when
Globus Auth cannot be reached, the caller is told to try again (HTTP 503) rather than refused or shown a 500.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from dlhub_manifest.errors import AuthUnavailable, UsageError
from dlhub_manifest.registry.service import Identity
from dlhub_manifest.util.logsafe import register_secret

IDENTITY_URN = "urn:globus:auth:identity:"
UNAVAILABLE_STATUS = frozenset({429, 500, 502, 503, 504})  # Globus Auth answers that mean "not now"
log = logging.getLogger("dlhub_manifest.server.auth")


class Authenticator(Protocol):
    """Anything that maps a bearer token to an identity (None: not a token we accept)."""

    def identify(self, token: str) -> Identity | None: ...


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class TokensFile:
    """Tokens from a YAML or JSON file: `{<token> or sha256:<hex>: {id, username, groups}}`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries = [(_key_digest(path, k), _identity_from(path, k, v)) for k, v in _read_mapping(path).items()]

    def identify(self, token: str) -> Identity | None:
        """Compare the token's digest with every entry in constant time (no early exit on a match)."""
        digest = _digest(token).encode()
        found: Identity | None = None
        for key, identity in self._entries:
            if hmac.compare_digest(digest, key):
                found = identity
        return found


def _read_mapping(path: Path) -> dict[str, Any]:
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as e:
        raise UsageError(f"tokens file {path} cannot be read: {e}") from e
    if not isinstance(data, dict) or not data:
        raise UsageError(f"tokens file {path} must map each token to {{id, username, groups}}")
    return data


def _key_digest(path: Path, key: Any) -> bytes:
    text = str(key)
    if text.startswith("sha256:"):
        return text[len("sha256:"):].lower().encode()
    if len(text) < 16:
        raise UsageError(f"tokens file {path}: a token is shorter than 16 characters; use long random tokens "
                         "(python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    register_secret(text)
    return _digest(text).encode()


def _identity_from(path: Path, _key: Any, entry: Any) -> Identity:
    if not isinstance(entry, dict) or not entry.get("username"):
        raise UsageError(f"tokens file {path}: each entry needs at least a 'username' (and optional id, groups)")
    username = str(entry["username"])
    groups = entry.get("groups") or []
    if not isinstance(groups, list):
        raise UsageError(f"tokens file {path}: 'groups' of {username!r} must be a list")
    return Identity(id=str(entry.get("id") or f"token:{username}"), username=username,
                    groups=tuple(str(g) for g in groups))


class GlobusIntrospection:
    """Globus Auth introspection with the server's confidential client, cached per token for `ttl` seconds."""

    def __init__(self, client_id: str, client_secret: str, *, ttl: float = 60.0, max_entries: int = 4096,
                 clock: Callable[[], float] = time.monotonic, retries: int = 1, timeout: float = 10.0) -> None:
        from globus_sdk import ConfidentialAppAuthClient
        from globus_sdk.transport import RequestsTransport, RetryConfig

        register_secret(client_secret)
        self.client_id = client_id
        # Few retries and a short timeout: a request waits on this call, and its client retries a 503 itself.
        self._client = ConfidentialAppAuthClient(client_id=client_id, client_secret=client_secret,
                                                 app_name="dlhub-manifest-server",
                                                 transport=RequestsTransport(http_timeout=timeout),
                                                 retry_config=RetryConfig(max_retries=retries, max_sleep=2))
        self._ttl, self._max, self._clock = ttl, max_entries, clock
        self._cache: OrderedDict[str, tuple[float, Identity | None]] = OrderedDict()
        self._lock = threading.Lock()

    def identify(self, token: str) -> Identity | None:
        """The token's identity if Globus Auth says it is active and meant for this server."""
        key = _digest(token)
        with self._lock:
            hit = self._cache.get(key)
            if hit and hit[0] > self._clock():
                return hit[1]
        identity = self._introspect(token)
        with self._lock:
            self._cache[key] = (self._clock() + self._ttl, identity)
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return identity

    def _introspect(self, token: str) -> Identity | None:
        data = self._ask_globus(token)
        if not data.get("active") or self.client_id not in (data.get("aud") or []):
            return None
        # ids as DLHub `visible_to` URNs, so a servable shared with a linked identity is visible too
        linked = (f"{IDENTITY_URN}{i}" for i in data.get("identity_set") or () if i != data["sub"])
        return Identity(id=f"{IDENTITY_URN}{data['sub']}", username=str(data.get("username") or data["sub"]),
                        groups=tuple(linked))

    def _ask_globus(self, token: str) -> dict[str, Any]:
        """The introspection answer; AuthUnavailable (never cached) when Globus Auth is down or unreachable."""
        from globus_sdk import GlobusAPIError, NetworkError

        try:
            return dict(self._client.oauth2_token_introspect(token, include="identity_set").data)
        except NetworkError as e:
            reason = f"{type(e).__name__}: {e.__cause__ or e}"
        except GlobusAPIError as e:
            if e.http_status not in UNAVAILABLE_STATUS:
                raise
            reason = f"HTTP {e.http_status}"
        log.warning("cannot reach Globus Auth to check a token (%s)", reason)  # an outage, not our bug: no traceback
        raise AuthUnavailable("cannot reach Globus Auth to check the token; try again") from None


class Chain:
    """The first authenticator that recognises the token wins."""

    def __init__(self, sources: Sequence[Authenticator]) -> None:
        self.sources = list(sources)

    def identify(self, token: str) -> Identity | None:
        """Try each source in order."""
        for source in self.sources:
            identity = source.identify(token)
            if identity is not None:
                return identity
        return None
