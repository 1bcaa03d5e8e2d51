"""`publish --repo --target http://...`: the server is sent a URL it can fetch (the repository's `origin`, or the
URL given), never a folder of this machine. A real `serve` with its worker that trusts a real git smart-HTTP
server on 127.0.0.1 (`--allow-repository-host`), where the repositories' `origin` lives."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from publish_support import git, make_repo
from registry_server import TOKENS, Server, running_server

RunCli = Callable[..., Result]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("repo-http"), "--allow-repository-host", "127.0.0.1") as srv:
        yield srv


@pytest.fixture(autouse=True)
def as_alice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLHUB_MANIFEST_TOKEN", TOKENS["alice"])
    monkeypatch.setenv("DLHUB_MANIFEST_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(tmp_path / "cache"))


def _pushed_repo(tmp_path: Path, name: str, forge: tuple[str, Path]) -> tuple[Path, str]:
    """A working repository whose `origin` is a bare clone on the forge; returns it and the origin URL."""
    repo = make_repo(tmp_path / "work", name=name)
    git(tmp_path, "clone", "-q", "--bare", str(repo), str(forge[1] / f"{name}.git"))
    url = f"{forge[0]}/{name}.git"
    git(repo, "remote", "add", "origin", url)
    return repo, url


def _publish(run_cli: RunCli, server: Server, source: str, expect: int = 0) -> Result:
    return run_cli("publish", "--repo", source, "--target", server.url, "--no-inspect", "--wait", expect=expect)


def _status(result: Result) -> str:
    return result.stdout.splitlines()[-1]


def test_a_local_repository_is_fetched_from_its_origin_not_from_its_folder(run_cli: RunCli, server: Server,
                                                                            tmp_path: Path, forge: Any) -> None:
    repo, origin = _pushed_repo(tmp_path, "via-origin", forge)
    head = git(repo, "rev-parse", "HEAD")
    result = _publish(run_cli, server, str(repo))
    assert f"the registry will fetch the commit from {origin}" in result.stderr
    assert f"fetching {origin} at {head[:12]}" in result.stderr  # the worker's own note, followed by --wait
    assert _status(result).startswith("succeeded: published alice/via-origin@0.1.0")
    found = json.loads(run_cli("show", "alice/via-origin", "--target", server.url, "--format", "json").stdout)
    assert found["document"]["provenance"]["repository"] == origin
    assert found["document"]["provenance"]["commit"] == head
    assert str(repo) not in json.dumps(found)


def test_a_repository_without_origin_is_refused_before_anything_is_sent(run_cli: RunCli, server: Server,
                                                                         tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "work", name="no-origin")
    result = _publish(run_cli, server, str(repo), expect=1)
    assert "has no `origin` remote, and a registry over HTTP cannot read a folder on this machine" in result.stderr
    assert "git remote add origin URL && git push origin HEAD" in result.stderr
    assert result.stdout == ""  # no task was submitted
    listed = run_cli("list", "--target", server.url, "--format", "json").stdout
    assert "no-origin" not in listed


def test_an_unpushed_commit_fails_the_task_saying_to_push_it(run_cli: RunCli, server: Server,
                                                             tmp_path: Path, forge: Any) -> None:
    repo, origin = _pushed_repo(tmp_path, "unpushed", forge)
    (repo / "weights.bin").write_bytes(b"weights v2\n")
    git(repo, "commit", "-q", "-am", "not pushed")
    head = git(repo, "rev-parse", "HEAD")
    result = _publish(run_cli, server, str(repo), expect=1)
    last = _status(result)
    assert last.startswith(f"failed: cannot fetch the commit from {origin}")
    assert "check that the commit was pushed" in last
    assert head[:12] in result.stderr


def test_a_url_given_on_the_command_line_is_sent_as_given(run_cli: RunCli, server: Server, tmp_path: Path,
                                                          forge: Any) -> None:
    _, origin = _pushed_repo(tmp_path, "by-url", forge)
    result = _publish(run_cli, server, origin)
    assert f"the registry will fetch the commit from {origin}" in result.stderr
    assert _status(result).startswith("succeeded: published alice/by-url@0.1.0")


def test_credentials_in_origin_are_never_sent_or_printed(run_cli: RunCli, server: Server, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "work", name="private")
    git(repo, "remote", "add", "origin", "https://someone:s3cret@127.0.0.1:9/lab/private.git")
    result = _publish(run_cli, server, str(repo), expect=1)  # nothing listens on port 9: the fetch fails
    assert "s3cret" not in result.output
    assert "the registry will fetch the commit from https://127.0.0.1:9/lab/private.git" in result.stderr
    assert _status(result).startswith("failed: cannot fetch the commit from https://127.0.0.1:9/lab/private.git")
    assert "s3cret" not in server.log.read_text()
