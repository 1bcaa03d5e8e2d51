"""`dlhub-manifest show` with every reference form against a real server, for an owner whose namespace is a
Globus username (`carol@globusid.org`), and a bad reference refused before any request."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from publish_support import make_project
from registry_server import TOKENS, Server, running_server

RunCli = Callable[..., Result]
CAROL = "carol-token-0123456789abcdef"
OWNER = "carol@globusid.org"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("show")
    tokens = workdir / "carol-tokens.yaml"
    tokens.write_text(f"{CAROL}: {{id: 'urn:globus:auth:identity:cccccccc-0000-4000-8000-000000000003', "
                      f"username: '{OWNER}'}}\n{TOKENS['alice']}: {{username: alice}}\n")
    with running_server(workdir, "--tokens", str(tokens)) as srv:  # the last --tokens wins
        yield srv


@pytest.fixture
def published(server: Server, tmp_path_factory: pytest.TempPathFactory, run_cli: RunCli,
              monkeypatch: pytest.MonkeyPatch) -> Server:
    monkeypatch.setenv("DLHUB_MANIFEST_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    monkeypatch.setenv("DLHUB_MANIFEST_TOKEN", CAROL)
    project = make_project(tmp_path_factory.mktemp("carol") / "demo", version="1.0.0")
    run_cli("publish", str(project), "--target", server.url, "--no-inspect", "--wait")
    return server


@pytest.mark.parametrize("ref", [f"{OWNER}/demo", "demo", f"{OWNER}/demo@1.0.0", "demo@1.0.0"])
def test_every_form_shows_the_version(published: Server, run_cli: RunCli, ref: str) -> None:
    found = json.loads(run_cli("show", ref, "--target", published.url, "--format", "json").stdout)
    assert (found["servable"], found["version"]) == (f"{OWNER}/demo", "1.0.0")


def test_another_user_names_the_owner(published: Server, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLHUB_MANIFEST_TOKEN", TOKENS["alice"])
    text = run_cli("show", f"{OWNER}/demo", "--target", published.url).stdout
    assert text.startswith(f"{OWNER}/demo@1.0.0: Demo servable\n")
    missing = run_cli("show", "demo", "--target", published.url, expect=1)  # alice has no `demo` of her own
    assert "alice/demo" in missing.stderr


def test_a_bad_reference_is_a_usage_error_before_any_request(run_cli: RunCli, tmp_path: Path) -> None:
    result = run_cli("show", "demo@latest", "--target", "http://127.0.0.1:9", expect=2)
    assert result.stderr.startswith("error: 'demo@latest' is not a servable reference: 'latest' is not a version")
