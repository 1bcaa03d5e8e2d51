"""Authentication against a real server: 401 without a (valid) token, 403 outside one's namespace, tokens
stored 0600 by `login`, and never printed, even with --debug."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from registry_server import IDS, TOKENS, Server, running_server

from dlhub_manifest.cli import cli


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("auth"), "--no-worker") as srv:
        yield srv


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DLHUB_MANIFEST_CONFIG_DIR", str(tmp_path / "config"))
    for name in ("DLHUB_MANIFEST_TOKEN", "GLOBUS_CLIENT_ID", "GLOBUS_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / "config"


@pytest.mark.parametrize("path", ["/whoami", "/servables", "/search?q=x", "/tasks/abc", f"/uploads/{'0' * 64}"])
def test_no_token_is_401(server: Server, path: str) -> None:
    r = requests.get(server.url + path)
    assert r.status_code == 401
    assert r.json()["code"] == "unauthenticated"
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_unknown_token_is_401(server: Server) -> None:
    r = requests.get(server.url + "/whoami", headers={"Authorization": "Bearer not-a-known-token-123456"})
    assert (r.status_code, r.json()["code"]) == (401, "invalid_token")


def test_auth_info_is_public_and_says_no_globus(server: Server) -> None:
    assert requests.get(server.url + "/auth").json() == {"methods": ["bearer"], "globus": None}


def test_publishing_into_another_namespace_is_403(server: Server) -> None:
    body = {"document": {"dlhub": {"name": "x", "owner": "bob"}}, "files": []}
    r = requests.post(server.url + "/publications", json=body, headers=server.headers("alice"))
    assert r.status_code == 403
    assert "'alice' may not publish into the namespace of 'bob'" in r.json()["message"]
    r = requests.post(server.url + "/publications", json={**body, "owner": "bob"}, headers=server.headers("alice"))
    assert r.status_code == 403


def test_cli_without_credentials_exits_4_and_says_how_to_log_in(server: Server, config_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["whoami", "--target", server.url])
    assert result.exit_code == 4
    assert "dlhub-manifest login --target" in result.stderr
    assert "DLHUB_MANIFEST_TOKEN" in result.stderr


def test_environment_token_whoami(server: Server, config_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["whoami", "--target", server.url, "--format", "json"],
                                env={"DLHUB_MANIFEST_TOKEN": TOKENS["bob"]})
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert (info["username"], info["id"], info["credentials"]) == ("bob", IDS["bob"], "DLHUB_MANIFEST_TOKEN")


def test_login_with_token_stores_it_0600_then_logout_forgets_it(server: Server, config_dir: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["login", "--target", server.url, "--token-stdin"], input=TOKENS["alice"] + "\n")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"logged in to {server.url} as alice"
    assert TOKENS["alice"] not in result.output
    tokens = config_dir / "tokens.json"
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    assert json.loads(tokens.read_text())[server.url]["access_token"] == TOKENS["alice"]
    who = runner.invoke(cli, ["whoami", "--target", server.url])
    assert who.stdout.splitlines()[0] == f"alice ({IDS['alice']})"
    assert "credentials: stored login" in who.stdout
    out = runner.invoke(cli, ["logout", "--target", server.url])
    assert out.stdout.strip() == f"removed the stored token for {server.url}"
    assert server.url not in json.loads(tokens.read_text())


def test_login_refuses_a_bad_token_and_stores_nothing(server: Server, config_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["login", "--target", server.url, "--token-stdin"], input="wrong-token-123456\n")
    assert result.exit_code == 4
    assert "wrong-token-123456" not in result.output
    assert not (config_dir / "tokens.json").exists()


def test_debug_output_never_shows_the_token(server: Server, tmp_path: Path) -> None:
    env = {"DLHUB_MANIFEST_TOKEN": TOKENS["alice"], "DLHUB_MANIFEST_CONFIG_DIR": str(tmp_path),
           "PATH": "/usr/bin:/bin"}
    for args in (["whoami", "--target", server.url], ["whoami", "--target", server.url + "/nope"]):
        proc = subprocess.run([sys.executable, "-m", "dlhub_manifest", "--debug", *args], env=env,
                              capture_output=True, text=True, timeout=60)
        assert "debug:" in proc.stderr  # debug logging really was on
        assert "request made to URL" in proc.stderr  # globus-sdk request logs were shown
        assert TOKENS["alice"] not in proc.stdout + proc.stderr
        assert TOKENS["alice"][:12] not in proc.stdout + proc.stderr
