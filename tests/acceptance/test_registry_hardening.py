"""A registry serving others, attacked the way a user with a valid token would: each test is one reported way
to reach beyond one's own namespace or to break the server, against a real `serve` on 127.0.0.1 (and, for
repository fetches, a real git smart-HTTP server)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from git_server import silent_socket
from publish_support import git, make_project, make_repo
from registry_server import TOKENS, Server, running_server

from dlhub_manifest.build import build


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A registry with the default fetch policy."""
    with running_server(tmp_path_factory.mktemp("strict"), "--max-pending-uploads", "1M") as srv:
        yield srv


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A registry that trusts the forge on 127.0.0.1 (an internal forge), with small limits."""
    with running_server(tmp_path_factory.mktemp("lab"), "--allow-repository-host", "127.0.0.1",
                        "--repository-timeout", "4", "--max-blob-size", "64K", "--max-repository-size", "1M",
                        "--workers", "2", "--max-running-per-owner", "1") as srv:
        yield srv


def push(forge: tuple[str, Path], repo: Path, name: str) -> str:
    """Put `repo` on the forge as NAME.git; returns its URL."""
    url, root = forge
    git(root, "clone", "-q", "--bare", str(repo), str(root / f"{name}.git"))
    return f"{url}/{name}.git"


def repo_request(repo: Path, url: str, **repository: str) -> dict[str, Any]:
    """The body `publish --repo` would send for `repo`'s HEAD, fetched from `url`."""
    commit = git(repo, "rev-parse", "HEAD")
    project = repo / repository["path"] if "path" in repository else repo
    document = build(project, inspect=False, provenance={"repository": url, "commit": commit})
    return {"document": document, "repository": {"url": url, "commit": commit, **repository}}


def post(server: Server, body: Any, user: str = "alice") -> requests.Response:
    return requests.post(server.url + "/publications", json=body, headers=server.headers(user), timeout=30)


def wait_task(server: Server, task_id: str, user: str = "alice", timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = requests.get(f"{server.url}/tasks/{task_id}", headers=server.headers(user), timeout=10).json()
        if task["status"] in ("succeeded", "failed"):
            return dict(task)
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish in {timeout}s")


def last(task: dict[str, Any]) -> str:
    return str(task["messages"][-1]["text"])


def no_traceback(server: Server) -> None:
    assert "Traceback" not in server.log.read_text()


# 1. the server's disk and network are not the caller's


@pytest.mark.parametrize("kind", ["folder", "file-url"])
def test_a_folder_or_file_url_on_the_server_is_never_fetched(strict: Server, tmp_path: Path, kind: str) -> None:
    repo = make_repo(tmp_path / "work", name="server-disk")
    url = str(repo) if kind == "folder" else repo.as_uri()
    answer = post(strict, repo_request(repo, url))
    assert answer.status_code == 400, answer.text
    assert "never fetched for you" in answer.json()["message"]
    assert "server-disk" not in requests.get(strict.url + "/servables", headers=strict.headers(), timeout=10).text


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "169.254.169.254", "10.1.2.3", "[::1]"])
def test_internal_addresses_are_refused_before_any_connection(strict: Server, tmp_path: Path, host: str) -> None:
    repo = make_repo(tmp_path / "work", name="scan")
    with silent_socket() as port:
        target = host if host != "127.0.0.1" else f"127.0.0.1:{port}"
        answer = post(strict, repo_request(repo, f"https://{target}/lab/scan.git"))
        assert answer.status_code == 400, answer.text
        message = answer.json()["message"]
        assert "non-public address" in message and "--allow-repository-host" in message
    assert "connection refused" not in message.lower() and "timed out" not in message


def test_plain_http_and_ssh_need_the_administrator(strict: Server, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "work", name="schemes")
    for url, allowed in (("http://example.org/a/b.git", "use https"), ("ssh://git@example.org/a/b.git", "use https")):
        answer = post(strict, repo_request(repo, url))
        assert answer.status_code == 400 and allowed in answer.json()["message"], answer.text


# 2. (see test_registry_fairness.py) 3. repository size limits


def test_repository_files_obey_the_blob_and_repository_limits(lab: Server, forge: tuple[str, Path],
                                                              tmp_path: Path) -> None:
    import os

    big_file = make_repo(tmp_path / "big-file", name="big-file", weights=os.urandom(100_000))
    task = wait_task(lab, post(lab, repo_request(big_file, push(forge, big_file, "big-file"))).json()["task_id"])
    assert task["status"] == "failed" and "weights.bin is 97.7 KiB, over this registry's limit of 64.0 KiB" in last(
        task), last(task)
    huge = make_repo(tmp_path / "huge", name="huge", weights=b"0" * 3_000_000)  # compresses to a small pack
    task = wait_task(lab, post(lab, repo_request(huge, push(forge, huge, "huge"))).json()["task_id"])
    assert task["status"] == "failed" and "over this registry's limit of 1.0 MiB for a repository" in last(task)


# 4. credentials in a URL


@pytest.mark.parametrize("userinfo", ["someone:TOKEN-abc123", "someone:p@ss@word", "TOKEN-abc123"])
def test_credentials_in_a_url_are_refused_and_never_stored(strict: Server, tmp_path: Path, userinfo: str) -> None:
    repo = make_repo(tmp_path / "work", name="creds")
    answer = post(strict, repo_request(repo, f"https://{userinfo}@github.com/lab/creds.git"))
    assert answer.status_code == 400, answer.text
    assert "carries credentials" in answer.json()["message"]
    secret = userinfo.split(":")[-1]
    assert secret not in answer.text
    db = strict.root / "registry.sqlite3"
    if db.exists():
        with sqlite3.connect(db) as conn:
            assert not [r for r in conn.execute("SELECT request, messages FROM tasks") if secret in "".join(r)]


# 5. symlinks in the repository


def test_a_symlinked_manifest_or_project_folder_is_refused_without_revealing_the_server(
        lab: Server, forge: tuple[str, Path], tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "linked", name="linked")
    body = repo_request(repo, "")  # the document of the real manifest
    (repo / "dlhub.yaml").unlink()
    (repo / "dlhub.yaml").symlink_to("/etc/passwd")
    (repo / "sub").symlink_to(str(lab.root))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "links")
    commit = git(repo, "rev-parse", "HEAD")
    url = push(forge, repo, "linked")
    body["document"]["provenance"]["commit"] = commit
    body["repository"] = {"url": url, "commit": commit}
    task = wait_task(lab, post(lab, body).json()["task_id"])
    assert task["status"] == "failed" and "dlhub.yaml is a symlink" in last(task), last(task)
    assert "root:" not in json.dumps(task)
    body["repository"]["path"] = "sub"
    task = wait_task(lab, post(lab, body).json()["task_id"])
    assert task["status"] == "failed" and "repository.path 'sub' is a symlink" in last(task), last(task)
    assert str(lab.root) not in json.dumps(task)
    no_traceback(lab)


# 8. the origin is sent as it is


def test_the_origin_is_fetched_and_recorded_exactly_as_configured(lab: Server, forge: tuple[str, Path],
                                                                 tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "origin", name="as-is")
    url = push(forge, repo, "as-is")
    git(repo, "remote", "add", "origin", url)
    env = {"DLHUB_MANIFEST_TOKEN": TOKENS["alice"], "DLHUB_MANIFEST_CACHE_DIR": str(tmp_path / "cache"),
           "DLHUB_MANIFEST_CONFIG_DIR": str(tmp_path / "config")}
    proc = _cli(env, "publish", "--repo", str(repo), "--target", lab.url, "--no-inspect", "--wait")
    assert proc.returncode == 0, proc.stderr
    assert f"the registry will fetch the commit from {url}" in proc.stderr  # `.git` and all
    found = requests.get(f"{lab.url}/servables/alice/as-is", headers=lab.headers(), timeout=10).json()
    assert found["document"]["provenance"]["repository"] == url
    git(repo, "remote", "set-url", "origin", "ssh://git@127.0.0.1:2222/lab/as-is.git")
    proc = _cli(env, "publish", "--repo", str(repo), "--target", lab.url, "--no-inspect", "--wait")
    assert "ssh://git@127.0.0.1:2222/lab/as-is.git" in proc.stderr  # not rewritten to https://127.0.0.1/...
    assert "ssh:// repository URLs are not fetched by this registry" in proc.stderr


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "dlhub_manifest", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


# 9. abandoned uploads


def announce(server: Server, digest: str, size: int, body: bytes) -> bytes:
    """PUT a blob announced as `size` bytes, send only `body`, and hang up; returns what the server answered."""
    import socket

    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall((f"PUT /blobs/{digest} HTTP/1.1\r\nHost: {host}\r\nAuthorization: "
                      f"{server.headers()['Authorization']}\r\nContent-Length: {size}\r\n\r\n").encode() + body)
        sock.settimeout(1.0)
        answer = b""
        try:
            while chunk := sock.recv(65536):  # until the server closes, or goes quiet waiting for more body
                answer += chunk
        except TimeoutError:
            pass  # still waiting for the rest of the body (or done answering): hang up now
        return answer


def test_an_owner_cannot_announce_more_unfinished_uploads_than_allowed(strict: Server) -> None:
    digest = "ab" * 32
    answer = announce(strict, digest, 10 << 30, b"x" * 10)
    assert answer.startswith(b"HTTP/1.1 413") and b"quota_exceeded" in answer and b"unfinished uploads" in answer
    assert not (strict.root / "uploads" / f"{digest}.part").exists()
    small = announce(strict, "ef" * 32, 512 << 10, b"x" * 10)  # within the limit: kept for a resume
    assert not small.startswith(b"HTTP/1.1 413")


def test_abandoned_uploads_are_reported_and_removed_after_their_age(tmp_path: Path) -> None:
    with running_server(tmp_path, "--upload-max-age", "2") as srv:
        digest = "cd" * 32
        announce(srv, digest, 100, b"y" * 10)
        part = srv.root / "uploads" / f"{digest}.part"
        deadline = time.monotonic() + 5
        while not part.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert part.exists()  # the interrupted upload keeps its bytes for a resume
        report = _cli({}, "registry", "check", "--registry", str(srv.root))
        assert f"unfinished upload uploads/{digest}.part: 10 B" in report.stdout, report.stdout + report.stderr
        deadline = time.monotonic() + 10
        while part.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not part.exists()


# 10. single requests that caused 500s


def test_hostile_single_requests_get_400s_not_500s(strict: Server, tmp_path: Path) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    answer = requests.post(strict.url + "/publications", data=deep, headers={
        **strict.headers(), "Content-Type": "application/json"}, timeout=30)
    assert answer.status_code == 400 and answer.json()["code"] == "bad_json", answer.text
    body = {"document": build(make_project(tmp_path / "p", name="long-version"), inspect=False),
            "files": [], "version": "1." + "9" * 5000 + ".0"}
    answer = post(strict, body)
    assert answer.status_code == 400 and "longer than 128 characters" in answer.json()["message"], answer.text
    answer = requests.get(f"{strict.url}/servables/alice/x/versions/1.{'9' * 5000}.0", headers=strict.headers(),
                          timeout=10)
    assert answer.status_code in (400, 404), answer.text
    answer = requests.get(strict.url + "/search", params={"q": " ".join(f"w{i}" for i in range(1500))},
                          headers=strict.headers(), timeout=30)
    assert answer.status_code == 400 and "at most 32 words" in answer.json()["message"], answer.text
    no_traceback(strict)


def test_a_manifest_with_a_huge_version_fails_validation(tmp_path: Path) -> None:
    folder = make_project(tmp_path / "p", version="1.0." + "9" * 5000)
    proc = _cli({}, "validate", str(folder))
    assert proc.returncode == 1 and "version" in proc.stdout and "internal error" not in proc.stdout + proc.stderr


# 12. private versions stay private


def test_a_private_newer_version_is_invisible_beside_a_public_one(strict: Server, tmp_path: Path) -> None:
    from registry_server import IDS

    env = {"DLHUB_MANIFEST_TOKEN": TOKENS["alice"], "DLHUB_MANIFEST_CACHE_DIR": str(tmp_path / "cache"),
           "DLHUB_MANIFEST_CONFIG_DIR": str(tmp_path / "config")}
    public = make_project(tmp_path / "v1", name="mixed", version="1.0.0")
    assert _cli(env, "publish", str(public), "--target", strict.url, "--no-inspect", "--wait").returncode == 0
    private = make_project(tmp_path / "v2", name="mixed", version="2.0.0", weights=b"v2\n")
    with (private / "dlhub.yaml").open("a") as fh:
        fh.write(f"visible_to: ['{IDS['alice']}']\n")
    assert _cli(env, "publish", str(private), "--target", strict.url, "--no-inspect", "--wait").returncode == 0
    for path in ("/servables/alice/mixed/versions/1.0.0", "/servables/alice/mixed", "/servables/alice/mixed/versions"):
        seen = requests.get(strict.url + path, headers=strict.headers("bob"), timeout=10).json()
        assert (seen["versions"], seen["latest"]) == (["1.0.0"], "1.0.0"), (path, seen)
    assert requests.get(strict.url + "/servables/alice/mixed/versions/2.0.0", headers=strict.headers("bob"),
                        timeout=10).status_code == 404
    mine = requests.get(strict.url + "/servables/alice/mixed", headers=strict.headers(), timeout=10).json()
    assert (mine["versions"], mine["latest"]) == (["1.0.0", "2.0.0"], "2.0.0")


# 13. file indexes no client produces


@pytest.mark.parametrize(("path", "why"), [
    ("a\nb", "U+000A"), ("model\u202etxt.exe", "U+202E"), (".git/config", "inside a .git folder"),
    ("x" * 5000, "longer than 1024 bytes"), ("d/" + "y" * 300, "longer than 1024 bytes (or has a part over 255)"),
], ids=["newline", "rtl-override", "dot-git", "5000-chars", "long-part"])
def test_file_paths_no_client_produces_are_refused(strict: Server, tmp_path: Path, path: str, why: str) -> None:
    document = build(make_project(tmp_path / "p", name="paths"), inspect=False)
    files = [{"path": p, "sha256": "0" * 64, "size": 1} for p in ("dlhub.yaml", "demo.py", "weights.bin", path)]
    answer = post(strict, {"document": document, "files": files})
    assert answer.status_code == 400 and why in answer.json()["message"], answer.text


@pytest.mark.parametrize("left_out", ["dlhub.yaml", "weights.bin"])
def test_a_file_index_must_hold_the_manifest_and_the_named_files(strict: Server, tmp_path: Path,
                                                                 left_out: str) -> None:
    document = build(make_project(tmp_path / "p", name="index"), inspect=False)
    files = [{"path": p, "sha256": "0" * 64, "size": 1} for p in ("dlhub.yaml", "demo.py", "weights.bin")
             if p != left_out]
    answer = post(strict, {"document": document, "files": files})
    assert answer.status_code == 400 and left_out in answer.json()["message"], answer.text


# quotas: an owner's stored bytes


def test_an_owner_quota_refuses_a_publication_that_would_pass_it(tmp_path: Path) -> None:
    (tmp_path / "srv").mkdir()
    with running_server(tmp_path / "srv", "--owner-quota", "4K") as srv:
        env = {"DLHUB_MANIFEST_TOKEN": TOKENS["alice"], "DLHUB_MANIFEST_CACHE_DIR": str(tmp_path / "cache"),
               "DLHUB_MANIFEST_CONFIG_DIR": str(tmp_path / "config")}
        small = make_project(tmp_path / "small", name="small", weights=b"w" * 100)
        assert _cli(env, "publish", str(small), "--target", srv.url, "--no-inspect", "--wait").returncode == 0
        big = make_project(tmp_path / "big", name="big", weights=b"w" * 5000)
        proc = _cli(env, "publish", str(big), "--target", srv.url, "--no-inspect", "--wait")
        assert proc.returncode == 1 and "over the 4.0 KiB this registry allows one owner" in proc.stderr, proc.stderr
        bob = {**env, "DLHUB_MANIFEST_TOKEN": TOKENS["bob"]}  # the quota is per owner
        assert _cli(bob, "publish", str(small), "--target", srv.url, "--no-inspect", "--wait").returncode == 0
