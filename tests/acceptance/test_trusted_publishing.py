"""Trusted publishing end to end: a local OpenID Connect issuer (keys made here, its JWKS and GitHub's ID-token
endpoint served on 127.0.0.1), a real `serve --trusted-publishers`, and the action's steps run as the runner
would, with `id-token: write` and no token secret."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from registry_server import Server, running_server
from test_action import job, static_project

REQUEST_TOKEN = "runtime-request-token-0123456789"


@dataclass
class Issuer:
    url: str
    key: rsa.RSAPrivateKey
    claims: dict[str, Any]  # what the simulated GitHub endpoint puts in the tokens it issues
    asked: list[str]

    def token(self, key: Any = None, algorithm: str = "RS256", **changes: Any) -> str:
        now = int(time.time())
        claims = {"iss": self.url, "aud": "dlhub-manifest", "iat": now, "nbf": now, "exp": now + 300,
                  "repository": "lab/iris", "repository_owner": "lab", "ref": "refs/tags/v1.0.0",
                  "job_workflow_ref": "lab/iris/.github/workflows/publish.yml@refs/tags/v1.0.0", "sub": "repo:lab/iris"}
        claims.update({k: v for k, v in changes.items() if v is not None})
        for k in [k for k, v in changes.items() if v is None]:
            claims.pop(k)
        signer = None if algorithm == "none" else key if key is not None else self.key
        return jwt.encode(claims, signer, algorithm=algorithm, headers={"kid": "test-key"})


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**json.loads(RSAAlgorithm.to_jwk(key.public_key())), "kid": "test-key", "use": "sig", "alg": "RS256"}
    state: dict[str, Issuer] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            parts = urlsplit(self.path)
            if parts.path == "/.well-known/jwks":
                self._send(200, {"keys": [jwk]})
            elif parts.path == "/id-token":
                found = state["issuer"]
                found.asked.append(self.headers.get("Authorization", ""))
                if self.headers.get("Authorization") != f"bearer {REQUEST_TOKEN}":
                    self._send(401, {"message": "bad request token"})
                    return
                audience = parse_qs(parts.query).get("audience", [""])[0]
                self._send(200, {"value": found.token(aud=audience, **found.claims)})
            else:
                self._send(404, {})

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    state["issuer"] = Issuer(f"http://127.0.0.1:{httpd.server_address[1]}", key, {}, [])
    try:
        yield state["issuer"]
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def server(issuer: Issuer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("trusted")
    trust = workdir / "publishers.yaml"
    trust.write_text(f"issuer: {issuer.url}\naudience: dlhub-manifest\npublishers:\n"
                     "  - {repository: lab/iris, owner: lab, ref: 'refs/tags/v*'}\n")
    with running_server(workdir, "--trusted-publishers", str(trust)) as srv:
        yield srv


def whoami(server: Server, token: str) -> requests.Response:
    return requests.get(server.url + "/whoami", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def test_a_token_of_a_trusted_repository_publishes_under_its_owner(server: Server, issuer: Issuer) -> None:
    answer = whoami(server, issuer.token())
    assert answer.status_code == 200, answer.text
    assert answer.json()["username"] == "lab" and answer.json()["id"] == f"oidc:{issuer.url}:lab/iris"


@pytest.mark.parametrize("changes", [
    {"repository": "mallory/iris"}, {"ref": "refs/heads/main"}, {"aud": "someone-else"},
    {"exp": int(time.time()) - 120, "iat": int(time.time()) - 600}, {"iss": "https://elsewhere.example"},
    {"exp": None},
], ids=["wrong-repository", "wrong-ref", "wrong-audience", "expired", "wrong-issuer", "no-expiry"])
def test_a_token_that_is_not_trusted_is_refused(server: Server, issuer: Issuer, changes: dict[str, Any]) -> None:
    answer = whoami(server, issuer.token(**changes))
    assert answer.status_code == 401 and answer.json()["code"] == "invalid_token", answer.text


def test_forged_tokens_are_refused(server: Server, issuer: Issuer) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert whoami(server, issuer.token(key=other)).status_code == 401  # same kid, another key
    assert whoami(server, issuer.token(key=None, algorithm="none")).status_code == 401
    public_pem = RSAAlgorithm.to_jwk(issuer.key.public_key())
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "kid": "test-key"}).encode()).decode()
    body = jwt.utils.base64url_encode(json.dumps({"iss": issuer.url, "aud": "dlhub-manifest", "repository": "lab/iris",
                                                   "exp": int(time.time()) + 300}).encode()).decode()
    import hashlib
    import hmac

    signature = hmac.new(public_pem.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    confused = f"{header}.{body}.{jwt.utils.base64url_encode(signature).decode()}"
    assert whoami(server, confused).status_code == 401  # HMAC keyed with the public key (algorithm confusion)
    assert "Traceback" not in server.log.read_text()


def test_the_action_publishes_with_the_jobs_id_token(server: Server, issuer: Issuer, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import test_action

    static_project(tmp_path / "workspace", "iris-trusted")
    real_env = test_action.github_env

    def with_id_token(*args: Any) -> dict[str, str]:
        return {**real_env(*args), "ACTIONS_ID_TOKEN_REQUEST_URL": f"{issuer.url}/id-token?api-version=2.0",
                "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN}

    monkeypatch.setattr(test_action, "github_env", with_id_token)
    run, _ = job(test_action.yaml.safe_load(test_action.ACTION.read_text()), tmp_path, "refs/tags/v1.0.0",
                 target=server.url)
    assert not run.failed, run.log()
    assert run.outputs["servable"] == "lab/iris-trusted" and run.outputs["status"] == "succeeded"
    assert issuer.asked == [f"bearer {REQUEST_TOKEN}"]
    assert "trusted publishing" in run.log()
    assert REQUEST_TOKEN not in run.log()
    found = requests.get(f"{server.url}/servables/lab/iris-trusted", headers={
        "Authorization": f"Bearer {issuer.token()}"}, timeout=10).json()
    assert found["provenance"]["published_by"] == f"oidc:{issuer.url}:lab/iris"


def test_a_token_for_an_untrusted_repository_fails_the_job(server: Server, issuer: Issuer, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import test_action

    static_project(tmp_path / "workspace", "iris-fork")
    real_env = test_action.github_env
    monkeypatch.setattr(test_action, "github_env", lambda *a: {
        **real_env(*a), "ACTIONS_ID_TOKEN_REQUEST_URL": f"{issuer.url}/id-token",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN})
    monkeypatch.setattr(issuer, "claims", {"repository": "mallory/iris"})
    run, _ = job(test_action.yaml.safe_load(test_action.ACTION.read_text()), tmp_path, "refs/tags/v1.0.0",
                 target=server.url)
    assert run.failed and run.steps[-1].name == "Publish"
    assert "not accepted" in run.log(), run.log()
