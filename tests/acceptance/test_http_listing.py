"""`GET /servables` pages and `GET /search` limits on a real server; the client and the CLI on top of them.

The registry is filled the way the worker fills it (store.insert_version) while `serve` runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from catalog_support import document, names, register
from click.testing import CliRunner
from registry_server import IDS, TOKENS, Server, running_server

from dlhub_manifest.cli import cli
from dlhub_manifest.credentials.login import Credentials, bearer_authorizer
from dlhub_manifest.credentials.userconfig import TargetConfig
from dlhub_manifest.targets import http as http_target
from dlhub_manifest.targets.http import HttpTarget
from dlhub_manifest.targets.http_client import RegistryClient

PUBLIC = ["alice/band-gap", "alice/iris", "carol/alloys", "carol/crystal-net", "dave/band-plot"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("listing")) as srv:
        root = srv.root
        register(root, "alice", "1.0.0", document("band-gap", title="Band gap regressor"))
        register(root, "alice", "1.0.0", document("iris", title="Iris", description="not a band model"))
        register(root, "carol", "2.0.0", document("alloys", title="Alloys", keywords=("band",)))
        register(root, "carol", "0.1.0", document("crystal-net", title="Crystal net"))
        register(root, "carol", "0.1.0", document("hidden-band", title="Hidden band", visible_to=[IDS["bob"]]))
        register(root, "dave", "1.0.0", document("band-plot", title="Band plot"))
        yield srv


def get(server: Server, path: str, user: str = "alice", **params: Any) -> requests.Response:
    return requests.get(server.url + path, params=params, headers=server.headers(user), timeout=30)


def test_servables_come_in_pages_linked_by_next(server: Server) -> None:
    seen, after = [], None
    for _ in range(4):
        body = get(server, "/servables", limit=2, **({"after": after} if after else {})).json()
        seen += names(body["servables"])
        after = body["next"]
        if after is None:
            break
    assert seen == PUBLIC  # carol's hidden servable is bob's to see, not alice's
    first = get(server, "/servables").json()
    assert names(first["servables"]) == PUBLIC and first["next"] is None  # default: one page of up to 10,000
    assert "carol/hidden-band" in names(get(server, "/servables", "bob").json()["servables"])


@pytest.mark.parametrize(("path", "params", "named"), [
    ("/servables", {"limit": "0"}, "limit must be between 1 and 10000"),
    ("/servables", {"limit": "10001"}, "limit must be between 1 and 10000"),
    ("/servables", {"limit": "two"}, "`limit` must be a positive whole number"),
    ("/servables", {"limit": "9" * 5000}, "`limit` must be a positive whole number"),
    ("/servables", {"after": "no-slash"}, "after must be OWNER/NAME"),
    ("/search", {"q": "band", "limit": "-1"}, "`limit` must be a positive whole number"),
])
def test_bad_paging_parameters_are_a_400_that_says_why(server: Server, path: str, params: dict[str, str],
                                                       named: str) -> None:
    response = get(server, path, **params)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request" and named in response.json()["message"]


def test_search_returns_the_best_matches_up_to_the_limit(server: Server) -> None:
    ranked = ["alice/band-gap", "dave/band-plot", "carol/alloys", "alice/iris"]  # title, title, keyword, description
    assert names(get(server, "/search", q="BAND").json()["results"]) == ranked
    assert names(get(server, "/search", q="band", limit=2).json()["results"]) == ranked[:2]
    assert names(get(server, "/search", "bob", q="hidden").json()["results"]) == ["carol/hidden-band"]
    assert get(server, "/search", q="hidden").json()["results"] == []


def test_client_lists_everything_page_by_page(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    pages: list[int] = []
    real = RegistryClient.list_servables

    def counted(self: RegistryClient, limit: int, after: str | None = None) -> dict[str, Any]:
        page = real(self, limit, after)
        pages.append(len(page["servables"]))
        return page

    monkeypatch.setattr(RegistryClient, "list_servables", counted)
    monkeypatch.setattr(http_target, "LIST_PAGE", 2)
    target = HttpTarget(TargetConfig(server.url), credentials=Credentials(bearer_authorizer(TOKENS["alice"]), "t"))
    assert names(target.list_servables()) == PUBLIC
    assert pages == [2, 2, 1]
    assert names(target.search("band", limit=3)) == ["alice/band-gap", "dave/band-plot", "carol/alloys"]


def test_cli_search_limit(server: Server, tmp_path: Path) -> None:
    env = {"DLHUB_MANIFEST_TOKEN": TOKENS["alice"], "DLHUB_MANIFEST_CONFIG_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli, ["search", "band", "--limit", "1", "--target", server.url], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.split()[0] == "alice/band-gap" and len(result.stdout.splitlines()) == 1
    assert "the best 1; --limit N shows more" in result.stderr
    listed = CliRunner().invoke(cli, ["list", "--target", server.url, "--format", "json"], env=env)
    assert names(json.loads(listed.stdout)) == PUBLIC
    refused = CliRunner().invoke(cli, ["search", "band", "--limit", "0", "--target", server.url], env=env)
    assert refused.exit_code == 2 and "--limit" in refused.stderr
