"""One error contract: the same failing publication ends the same way on the embedded registry and over HTTP.

Each case runs once against a local registry folder and once against a real `dlhub-manifest serve` on
127.0.0.1, as the same user (`alice`: the local login name and the server's token), and must give the same
exit code (or exception class) and the same message. The registry's database lock wait is shortened through
DLHUB_MANIFEST_LOCK_WAIT, for this process and the server alike, so a locked database answers within a second.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from publish_support import git, make_project, make_repo, wait_done
from registry_server import TOKENS, Server, running_server

from dlhub_manifest.errors import DLHubManifestError
from dlhub_manifest.registry.store import DB_NAME, Store

RunCli = Callable[..., Result]
LOCK_WAIT = "0.5"


@dataclass(frozen=True)
class Where:
    """One registry as the CLI names it (`--registry PATH` or `--target URL`), and the folder holding its data."""

    option: tuple[str, str]
    root: Path
    work: Path
    forge: tuple[str, Path] | None = None  # (base URL, folder) of the git server a remote registry fetches from

    def target(self) -> Any:
        from dlhub_manifest.targets import resolve_target

        flag, value = self.option
        return resolve_target(registry=value) if flag == "--registry" else resolve_target(target=value)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DLHUB_MANIFEST_LOCK_WAIT", LOCK_WAIT)
        with running_server(tmp_path_factory.mktemp("parity"), "--allow-repository-host", "127.0.0.1") as srv:
            yield srv


@pytest.fixture(autouse=True)
def as_alice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):  # the local registry's user is the login name
        monkeypatch.setenv(name, "alice")
    monkeypatch.setenv("DLHUB_MANIFEST_TOKEN", TOKENS["alice"])
    monkeypatch.setenv("DLHUB_MANIFEST_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DLHUB_MANIFEST_LOCK_WAIT", LOCK_WAIT)


def _errors(result: Result) -> tuple[int, list[str]]:
    """The exit code, the `error:` lines and the final status line: what the user is told went wrong."""
    told = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    told += [line for line in result.stdout.splitlines() if line.startswith(("failed:", "succeeded:"))]
    return result.exit_code, told


def _raised(action: Callable[[], object]) -> tuple[int, str, str]:
    with pytest.raises(DLHubManifestError) as info:
        action()
    return info.value.exit_code, type(info.value).__name__, str(info.value)


def _publish(run_cli: RunCli, where: Where, project: Path) -> Result:
    return run_cli("publish", str(project), *where.option, "--no-inspect", "--wait", expect=None)


def version_exists(run_cli: RunCli, where: Where) -> Any:
    project = make_project(where.work / "conflict", name="conflict", version="1.0.0")
    assert _publish(run_cli, where, project).exit_code == 0
    (project / "weights.bin").write_bytes(b"other weights\n")
    return _errors(_publish(run_cli, where, project))


def not_found(run_cli: RunCli, where: Where) -> Any:
    return _errors(run_cli("show", "alice/no-such-servable@1.2.3", *where.option, expect=None))


def bad_request(_run_cli: RunCli, where: Where) -> Any:
    return _raised(lambda: where.target().publish({"document": {"title": "no dlhub block"}, "files": []}))


def invalid_document(run_cli: RunCli, where: Where) -> Any:
    """A request the registry accepts for checking, whose document then fails the registry's schema."""
    from dlhub_manifest.publish.files import prepare_files

    prepared = prepare_files(make_project(where.work / "invalid", name="invalid"), inspect=False)
    prepared.document["datacite"]["titles"] = "not a list"
    target = where.target()
    from dlhub_manifest.publish.files import submit

    status = wait_done(target, submit(target, prepared))
    return status["status"], status["messages"][-1]["text"]


def bad_repository_path(_run_cli: RunCli, where: Where) -> Any:
    """A repository publication naming a project folder that the commit does not have fails its task."""
    from dlhub_manifest.publish.repository import prepare_repository

    repo = make_repo(where.work / "repo", name="pathless")
    request = prepare_repository(str(repo), inspect=False).request()
    request["repository"]["path"] = "no/such/folder"
    if where.forge:  # a registry over HTTP fetches from a URL, never from a folder of the caller's
        git(where.work, "clone", "-q", "--bare", str(repo), str(where.forge[1] / "pathless.git"))
        request["repository"]["url"] = f"{where.forge[0]}/pathless.git"
    target = where.target()
    status = wait_done(target, target.publish(request))
    return status["status"], status["messages"][-1]["text"]


def locked_database(run_cli: RunCli, where: Where) -> Any:
    Store(where.root).close()  # the database exists, so there is something to lock
    Store(where.root).conn.close()
    holder = sqlite3.connect(where.root / DB_NAME, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        return _errors(_publish(run_cli, where, make_project(where.work / "locked", name="locked")))
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# The locked database goes last: the registries' workers meet the lock too and must recover afterwards.
CASES = [bad_request, invalid_document, not_found, version_exists, bad_repository_path, locked_database]


EXPECTED = {  # what the user is told, checked too: two equal wrong answers must not pass
    "bad_request": (2, "UsageError", "request.document must be a servable document with a `dlhub` block"),
    "not_found": (1, ["error: servable alice/no-such-servable@1.2.3 is not in the registry"]),
    "version_exists": (1, ["failed: alice/conflict@1.0.0 is already published with different content (files "
                           "that differ: weights.bin)"]),
    "invalid_document": ("failed", "the servable document is not valid"),
    "bad_repository_path": ("failed", "the commit has no folder 'no/such/folder'"),
    "locked_database": (1, [f"error: the registry database stayed locked by another process for {LOCK_WAIT} s"]),
}


@pytest.mark.parametrize("case", CASES, ids=[c.__name__ for c in CASES])
def test_a_failure_ends_the_same_way_locally_and_over_http(case: Callable[[RunCli, Where], Any], run_cli: RunCli,
                                                           server: Server, forge: tuple[str, Path],
                                                           tmp_path: Path) -> None:
    local = case(run_cli, Where(("--registry", str(tmp_path / "registry")), tmp_path / "registry",
                                tmp_path / "local"))
    remote = case(run_cli, Where(("--target", server.url), server.root, tmp_path / "remote", forge))
    assert remote == local
    want = EXPECTED[case.__name__]
    assert local[0] == want[0]
    if isinstance(want[1], list):
        assert len(local[1]) == 1 and local[1][0].startswith(want[1][0]), local
    else:
        assert local[1:-1] == want[1:-1] and want[-1] in local[-1], local
    assert "internal error" not in json.dumps(local)
