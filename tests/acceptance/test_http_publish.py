"""The second-machine workflow on one machine: `serve` in one process, `publish --target URL` with a token in
another, then status, list, search and whoami through the same client; private servables stay private."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from git_server import git_http_server
from registry_server import IDS, TOKENS, Server, running_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sklearn"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(tmp_path_factory.mktemp("publish"), "--allow-repository-host", "127.0.0.1") as srv:
        yield srv


def cli(tmp_path: Path, user: str, *args: str, expect: int = 0) -> str:
    env = {**os.environ, "DLHUB_MANIFEST_TOKEN": TOKENS[user], "DLHUB_MANIFEST_CACHE_DIR": str(tmp_path / "cache"),
           "DLHUB_MANIFEST_CONFIG_DIR": str(tmp_path / "config")}
    proc = subprocess.run([sys.executable, "-m", "dlhub_manifest", *args], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == expect, f"{args}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert TOKENS[user] not in proc.stdout + proc.stderr
    return proc.stdout


def project(tmp_path: Path, name: str, **changes: object) -> Path:
    folder = Path(shutil.copytree(EXAMPLE, tmp_path / name))
    text = (folder / "dlhub.yaml").read_text().replace("name: iris-classifier", f"name: {name}")
    extra = "".join(f"{k}: {json.dumps(v)}\n" for k, v in changes.items())
    (folder / "dlhub.yaml").write_text(text + extra)
    return folder


def test_publish_files_then_read_back(server: Server, tmp_path: Path) -> None:
    folder = project(tmp_path, "iris-over-http", version="1.0.0")
    done = json.loads(cli(tmp_path, "alice", "publish", str(folder), "--target", server.url, "--wait",
                          "--no-inspect", "--format", "json"))
    assert done["status"] == "succeeded", done
    assert done["result"]["servable"] == "alice/iris-over-http" and done["result"]["version"] == "1.0.0"
    status = json.loads(cli(tmp_path, "alice", "status", done["task_id"], "--target", server.url, "--format", "json"))
    assert status["status"] == "succeeded"
    listed = cli(tmp_path, "alice", "list", "--target", server.url)
    assert "alice/iris-over-http" in listed
    found = json.loads(cli(tmp_path, "alice", "search", "over http", "--target", server.url, "--format", "json"))
    assert [f["servable"] for f in found] == ["alice/iris-over-http"]
    again = cli(tmp_path, "alice", "publish", str(folder), "--target", server.url, "--wait", "--no-inspect")
    assert "already published" in again


def test_private_servable_is_invisible_to_others_even_in_search(server: Server, tmp_path: Path) -> None:
    folder = project(tmp_path, "secret-model", visible_to=[IDS["alice"]], description="a hush-hush model")
    done = json.loads(cli(tmp_path, "alice", "publish", str(folder), "--target", server.url, "--wait",
                          "--no-inspect", "--format", "json"))
    assert done["status"] == "succeeded", done
    assert "alice/secret-model" in cli(tmp_path, "alice", "list", "--target", server.url)
    assert "alice/secret-model" not in cli(tmp_path, "bob", "list", "--target", server.url)
    assert json.loads(cli(tmp_path, "bob", "search", "hush-hush", "--target", server.url, "--format", "json")) == []
    assert len(json.loads(cli(tmp_path, "alice", "search", "hush-hush", "--target", server.url, "--format",
                              "json"))) == 1
    status = cli(tmp_path, "bob", "status", done["task_id"], "--target", server.url, expect=1)
    assert status == ""  # another user's task is as absent as a private servable


def test_publish_a_git_repository(server: Server, tmp_path: Path) -> None:
    repo = project(tmp_path, "iris-from-git")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(repo)]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "model"], ["tag", "v2.1.0"]):
        subprocess.run([*git, *step], check=True)
    # A registry over HTTP fetches from the remote, not from this folder: give it an origin it can read (a forge
    # on 127.0.0.1, which this server allows).
    forge = tmp_path / "forge"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo), str(forge / "origin.git")], check=True)
    with git_http_server(forge) as url:
        subprocess.run([*git, "remote", "add", "origin", f"{url}/origin.git"], check=True)
        done = json.loads(cli(tmp_path, "alice", "publish", "--repo", str(repo), "--target", server.url, "--wait",
                              "--no-inspect", "--format", "json"))
    assert done["status"] == "succeeded", done
    assert (done["kind"], done["result"]["version"]) == ("repository", "2.1.0")
