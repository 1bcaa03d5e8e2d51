"""`export OWNER/NAME@VERSION`: a published version's citation carries its version, date, repository and commit,
from the local registry and over HTTP."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import Result
from publish_support import git, make_project, make_repo
from registry_server import TOKENS, Server, running_server

RunCli = Callable[..., Result]


def test_a_version_published_from_a_repository_cites_its_commit(run_cli: RunCli, registry: Path,
                                                                 tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tag="v1.2.0")
    run_cli("publish", "--repo", str(repo), "--no-inspect", "--wait")
    owner = json.loads(run_cli("whoami", "--format", "json").stdout)["username"]
    cff = yaml.safe_load(run_cli("export", f"{owner}/demo@1.2.0", "--to", "cff").stdout)
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    assert (cff["title"], cff["version"], cff["date-released"]) == ("Demo servable", "1.2.0", today)
    assert (cff["repository-code"], cff["commit"]) == (repo.resolve().as_uri(), git(repo, "rev-parse", "HEAD"))
    zenodo = json.loads(run_cli("export", "demo", "--to", "zenodo", "--doi", "10.5281/zenodo.42").stdout)
    assert zenodo["doi"] == "10.5281/zenodo.42" and zenodo["publication_date"] == today
    assert zenodo["related_identifiers"][-1]["identifier"].endswith("/tree/" + git(repo, "rev-parse", "HEAD"))


def test_an_unknown_version_is_a_clear_error(run_cli: RunCli, registry: Path) -> None:
    result = run_cli("export", "someone/nothing@1.0.0", "--to", "bibtex", expect=1)
    assert "is not in the registry" in result.stderr


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("export")) as srv:
        yield srv


def test_over_http_the_citation_links_the_published_document(server: Server, run_cli: RunCli, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLHUB_MANIFEST_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("DLHUB_MANIFEST_TOKEN", TOKENS["alice"])
    project = make_project(tmp_path / "demo", version="2.0.0")
    run_cli("publish", str(project), "--target", server.url, "--no-inspect", "--wait")
    bib = run_cli("export", "alice/demo", "--to", "bibtex", "--target", server.url).stdout
    assert f"url = {{{server.url}/servables/alice/demo/versions/2.0.0}}" in bib
    assert "version = {2.0.0}" in bib
