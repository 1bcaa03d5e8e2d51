"""Trusted publishing: OpenID Connect ID tokens from CI (GitHub Actions) accepted in place of a stored secret.

Like PyPI's trusted publishers, the administrator lists which repositories (optionally which refs, which
workflow) may publish into which owner namespace. A token is accepted only when its signature verifies with
the issuer's published keys (JWKS, fetched and cached), its algorithm is an asymmetric one we allow (never
`none` or HMAC), it is meant for this registry (`aud`), has not expired, and its claims match a rule.

The trust file (YAML):

    issuer: https://token.actions.githubusercontent.com     # default
    audience: dlhub-manifest                                # default; the action requests this audience
    publishers:
      - repository: lab/iris-model      # required: `repository` claim (OWNER/REPO)
        owner: lab                      # required: the namespace the token publishes under
        ref: refs/tags/v*               # optional glob on the `ref` claim
        workflow_ref: lab/iris-model/.github/workflows/publish.yml@*   # optional glob on `job_workflow_ref`
"""

from __future__ import annotations

import fnmatch
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlhub_manifest.errors import AuthUnavailable, UsageError
from dlhub_manifest.registry.service import Identity

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
DEFAULT_AUDIENCE = "dlhub-manifest"
ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
JWKS_TTL = 300.0
log = logging.getLogger("dlhub_manifest.server.oidc")


@dataclass(frozen=True)
class Publisher:
    """One trust rule: tokens of `repository` (at a matching ref and workflow) publish as `owner`."""

    repository: str
    owner: str
    ref: str | None = None
    workflow_ref: str | None = None

    def matches(self, claims: dict[str, Any]) -> bool:
        if str(claims.get("repository", "")).lower() != self.repository.lower():
            return False
        if self.ref is not None and not fnmatch.fnmatchcase(str(claims.get("ref", "")), self.ref):
            return False
        workflow = str(claims.get("job_workflow_ref") or claims.get("workflow_ref") or "")
        return self.workflow_ref is None or fnmatch.fnmatchcase(workflow, self.workflow_ref)


class TrustedPublishers:
    """An `Authenticator` for OIDC ID tokens: signature, issuer, audience, expiry, then a trust rule."""

    def __init__(self, publishers: list[Publisher], *, issuer: str = GITHUB_ISSUER,
                 audience: str = DEFAULT_AUDIENCE, jwks_url: str | None = None) -> None:
        from jwt import PyJWKClient

        self.publishers, self.issuer, self.audience = publishers, issuer.rstrip("/"), audience
        self.jwks_url = jwks_url or f"{self.issuer}/.well-known/jwks"
        self._keys = PyJWKClient(self.jwks_url, cache_keys=True, lifespan=JWKS_TTL, timeout=10)
        self._lock = threading.Lock()

    @classmethod
    def from_file(cls, path: Path) -> TrustedPublishers:
        """Read the trust file; every mistake is a UsageError naming the file and the entry."""
        data = _read(path)
        rules = data.get("publishers")
        if not isinstance(rules, list) or not rules:
            raise UsageError(f"{path}: `publishers` must list at least one {{repository, owner}} entry")
        publishers = [_publisher(path, i, rule) for i, rule in enumerate(rules)]
        return cls(publishers, issuer=str(data.get("issuer") or GITHUB_ISSUER),
                   audience=str(data.get("audience") or DEFAULT_AUDIENCE), jwks_url=data.get("jwks_url"))

    def identify(self, token: str) -> Identity | None:
        """The publisher's identity for a valid, trusted ID token; None for anything else."""
        if token.count(".") != 2:
            return None  # not a JWT: some other authenticator's token
        claims = self._verify(token)
        if claims is None:
            return None
        rule = next((p for p in self.publishers if p.matches(claims)), None)
        if rule is None:
            log.info("ID token of %s (ref %s) matches no trusted publisher", claims.get("repository"),
                     claims.get("ref"))
            return None
        return Identity(id=f"oidc:{self.issuer}:{claims['repository']}", username=rule.owner)

    def _verify(self, token: str) -> dict[str, Any] | None:
        import jwt

        try:
            with self._lock:  # PyJWKClient's cache is not meant for concurrent refreshes
                key = self._keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(token, key.key, algorithms=ALGORITHMS, audience=self.audience,
                                                issuer=self.issuer, options={"require": ["exp", "iat", "iss", "aud"]},
                                                leeway=30)
        except jwt.PyJWKClientConnectionError as e:
            log.warning("cannot fetch the OIDC issuer's keys from %s: %s", self.jwks_url, e)
            raise AuthUnavailable("cannot reach the OIDC issuer's keys to check the token; try again") from None
        except (jwt.PyJWTError, ValueError) as e:
            log.info("ID token refused: %s", e)
            return None
        return claims


def _read(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise UsageError(f"trusted publishers file {path} cannot be read: {e}") from e
    if not isinstance(data, dict):
        raise UsageError(f"trusted publishers file {path} must be a mapping with `publishers`")
    return data


def _publisher(path: Path, i: int, rule: Any) -> Publisher:
    if not isinstance(rule, dict) or not all(isinstance(rule.get(k), str) and rule[k] for k in ("repository",
                                                                                                  "owner")):
        raise UsageError(f"{path}: publishers[{i}] needs `repository` (OWNER/REPO) and `owner` (a namespace)")
    if "/" not in rule["repository"]:
        raise UsageError(f"{path}: publishers[{i}].repository must be OWNER/REPO (got {rule['repository']!r})")
    optional = {k: str(rule[k]) for k in ("ref", "workflow_ref") if rule.get(k) is not None}
    return Publisher(rule["repository"], rule["owner"], **optional)
