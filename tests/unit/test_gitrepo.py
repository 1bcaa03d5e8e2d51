"""Git helpers against real repositories made in tmp_path with the git CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dlhub_manifest.errors import DLHubManifestError, UsageError
from dlhub_manifest.repository import checkout as gitrepo
from dlhub_manifest.repository.checkout import (
    DirtyTreeError,
    GitRepoError,
    changed_paths,
    checkout_at,
    is_dirty,
    list_files_at,
    open_repo,
    read_file_at,
    remote_url,
    require_clean,
    resolve_ref,
    version_from_tag,
)
from dlhub_manifest.repository.urls import normalize_remote_url, strip_credentials
from dlhub_manifest.util.logsafe import redact


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "test@example.org")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "config", "tag.gpgsign", "false")
    (root / "dlhub.yaml").write_text("name: one\n")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("x = 1\n")
    (root / ".gitignore").write_text("*.log\n")
    commit_all(root, "first")
    return root


# --- opening and cleanliness -----------------------------------------------------------------------------------

def test_open_repo_finds_the_repository_from_a_subfolder(repo: Path) -> None:
    assert Path(open_repo(repo / "src").working_tree_dir or "") == repo


def test_open_repo_outside_git_says_how_to_fix(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    with pytest.raises(GitRepoError, match="is not in a git repository; run `git init`"):
        open_repo(tmp_path / "plain")
    with pytest.raises(GitRepoError, match="does not exist"):
        open_repo(tmp_path / "nowhere")


def test_clean_tree_and_ignored_files_are_not_dirty(repo: Path) -> None:
    (repo / "debug.log").write_text("ignored\n")
    handle = open_repo(repo)
    assert not is_dirty(handle)
    require_clean(handle)  # a clean tree passes; the dirty cases below must raise


@pytest.mark.parametrize("change", ["modified", "staged", "untracked"])
def test_dirty_tree_is_refused_with_the_paths(repo: Path, change: str) -> None:
    if change == "modified":
        (repo / "src" / "app.py").write_text("x = 2\n")
    elif change == "staged":
        (repo / "new.py").write_text("")
        git(repo, "add", "new.py")
    else:
        (repo / "notes.txt").write_text("draft")
    handle = open_repo(repo)
    assert is_dirty(handle)
    with pytest.raises(DirtyTreeError) as err:
        require_clean(handle)
    expected = {"modified": "src/app.py", "staged": "new.py", "untracked": "notes.txt"}[change]
    assert str(err.value) == f"working tree has uncommitted changes: {expected}; commit them or pass --allow-dirty"


def test_changed_paths_lists_renames_once_and_leaves_out_what_is_ignored(repo: Path) -> None:
    git(repo, "mv", "src/app.py", "src/main.py")
    (repo / "dlhub.json").write_text("{}")
    handle = open_repo(repo)
    assert sorted(changed_paths(handle)) == ["dlhub.json", "src/main.py"]
    assert changed_paths(handle, {"dlhub.json"}) == ["src/main.py"]
    assert not is_dirty(handle, {"dlhub.json", "src/main.py"})


def test_dirty_message_caps_the_list(repo: Path) -> None:
    for i in range(8):
        (repo / f"f{i}.txt").write_text("")
    with pytest.raises(DirtyTreeError, match=r"f4\.txt and 3 more; commit them"):
        require_clean(open_repo(repo))


# --- refs, tags, versions --------------------------------------------------------------------------------------

def test_resolve_head_without_tag(repo: Path) -> None:
    assert resolve_ref(open_repo(repo)) == (git(repo, "rev-parse", "HEAD"), None)


def test_resolve_head_at_tags_picks_the_highest_semver(repo: Path) -> None:
    git(repo, "tag", "v1.2.0")
    git(repo, "tag", "-a", "v1.10.0", "-m", "annotated")
    git(repo, "tag", "v1.10.0-rc.1")
    git(repo, "tag", "release-candidate")
    sha = git(repo, "rev-parse", "HEAD")
    assert resolve_ref(open_repo(repo)) == (sha, "v1.10.0")


def test_resolve_a_named_tag_returns_that_tag_even_on_a_busy_commit(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "-a", "v1.0.0", "-m", "one")
    git(repo, "tag", "v2.0.0")
    (repo / "src" / "app.py").write_text("x = 3\n")
    commit_all(repo, "second")
    handle = open_repo(repo)
    assert resolve_ref(handle, "v1.0.0") == (first, "v1.0.0")          # annotated tag peeled to its commit
    assert resolve_ref(handle, "refs/tags/v1.0.0") == (first, "v1.0.0")
    assert resolve_ref(handle, first[:10]) == (first, "v2.0.0")       # a commit at tags gets the highest
    assert resolve_ref(handle, "main")[1] is None


def test_single_non_semver_tag_is_reported_and_ambiguous_ones_are_not(repo: Path) -> None:
    git(repo, "tag", "stable")
    assert resolve_ref(open_repo(repo))[1] == "stable"
    git(repo, "tag", "latest")
    assert resolve_ref(open_repo(repo))[1] is None


def test_unknown_ref_and_empty_repository(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(GitRepoError, match="ref 'v9.9.9' not found in .*; list tags with `git tag`"):
        resolve_ref(open_repo(repo), "v9.9.9")
    with pytest.raises(GitRepoError, match="is not a git ref"):
        resolve_ref(open_repo(repo), "--upload-pack=evil")
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(GitRepoError, match="has no commits yet; commit the project first"):
        resolve_ref(open_repo(empty))


@pytest.mark.parametrize(("tag", "version"), [
    ("v1.2.0", "1.2.0"), ("1.2.0", "1.2.0"), ("refs/tags/v0.3.1", "0.3.1"), ("v2.0.0-rc.1", "2.0.0-rc.1"),
    ("v1.2", None), ("release", None), ("v01.2.0", None), ("vv1.2.0", None), ("", None), (None, None),
])
def test_version_from_tag(tag: str | None, version: str | None) -> None:
    assert version_from_tag(tag) == version


# --- remote URLs -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "expected"), [
    ("git@github.com:o/r.git", "https://github.com/o/r"),
    ("ssh://git@github.com/o/r", "https://github.com/o/r"),
    ("ssh://git@GitHub.com:2222/o/r.git", "https://github.com/o/r"),
    ("git://github.com/o/r.git", "https://github.com/o/r"),
    ("https://user:token@github.com/o/r.git", "https://github.com/o/r"),
    ("https://oauth2:glpat-abc@gitlab.example.org/group/sub/r.git/", "https://gitlab.example.org/group/sub/r"),
    ("https://github.com:443/o/r?private_token=x#frag", "https://github.com/o/r"),
    ("http://git.example.org:8080/r.git", "http://git.example.org:8080/r"),
])
def test_normalize_remote_url(url: str, expected: str) -> None:
    assert normalize_remote_url(url) == expected


def test_normalize_local_paths_to_absolute_file_urls(tmp_path: Path) -> None:
    (tmp_path / "up.git").mkdir()
    assert normalize_remote_url(str(tmp_path / "up.git")) == (tmp_path / "up.git").resolve().as_uri()
    assert normalize_remote_url("../up.git", base=tmp_path / "sub") == (tmp_path / "up.git").resolve().as_uri()
    assert normalize_remote_url((tmp_path / "up.git").as_uri()) == (tmp_path / "up.git").resolve().as_uri()


@pytest.mark.parametrize("url", ["", "  ", "-oProxyCommand=evil", "ext::sh -c touch% /tmp/pwned", "ftp://h/r",
                                 "https:///nohost"])
def test_unusable_remote_urls_are_refused(url: str) -> None:
    with pytest.raises(UsageError):
        normalize_remote_url(url)


def test_credentials_never_reach_messages_or_logs() -> None:
    assert strip_credentials("fatal: https://bob:s3cr3t-token@host/r.git not found") == \
        "fatal: https://host/r.git not found"
    normalize_remote_url("https://bob:an0ther-s3cret@host/r.git")
    assert redact("retrying with an0ther-s3cret") == "retrying with ***"


def test_remote_url_of_origin(repo: Path) -> None:
    handle = open_repo(repo)
    assert remote_url(handle) is None
    git(repo, "remote", "add", "origin", "https://me:tok@github.com/me/iris.git")
    assert remote_url(handle) == "https://github.com/me/iris"
    git(repo, "remote", "set-url", "origin", "../upstream.git")
    assert remote_url(handle) == (repo.parent / "upstream.git").resolve().as_uri()


# --- reading a commit ----------------------------------------------------------------------------------------------

def test_read_file_at_reads_the_commit_not_the_working_tree(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "dlhub.yaml").write_text("name: two\n")
    second = commit_all(repo, "rename")
    (repo / "dlhub.yaml").write_text("name: uncommitted\n")
    handle = open_repo(repo)
    assert read_file_at(handle, first, "dlhub.yaml") == b"name: one\n"
    assert read_file_at(handle, second, "dlhub.yaml") == b"name: two\n"
    assert read_file_at(handle, second, "src/app.py") == b"x = 1\n"


def test_read_file_at_explains_what_is_wrong(repo: Path) -> None:
    (repo / "link.yaml").symlink_to("dlhub.yaml")
    sha = commit_all(repo, "link")
    handle = open_repo(repo)
    with pytest.raises(GitRepoError, match=r"missing.yaml is not in commit [0-9a-f]{12}; commit it \(git add"):
        read_file_at(handle, sha, "missing.yaml")
    with pytest.raises(GitRepoError, match="src is a directory in commit"):
        read_file_at(handle, sha, "src")
    with pytest.raises(GitRepoError, match="link.yaml is a symlink in commit"):
        read_file_at(handle, sha, "link.yaml")
    with pytest.raises(GitRepoError, match="leaves the project"):
        read_file_at(handle, sha, "../outside")
    with pytest.raises(GitRepoError, match="is 10 bytes in commit .*; the limit is 4"):
        read_file_at(handle, sha, "dlhub.yaml", max_bytes=4)
    with pytest.raises(GitRepoError, match="commit 'deadbeef' not found"):
        read_file_at(handle, "deadbeef", "dlhub.yaml")


def test_list_files_at_a_commit(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "src" / "more.py").write_text("")
    second = commit_all(repo, "more")
    handle = open_repo(repo)
    assert list_files_at(handle, first) == [".gitignore", "dlhub.yaml", "src/app.py"]
    assert list_files_at(handle, second) == [".gitignore", "dlhub.yaml", "src/app.py", "src/more.py"]


# --- the worker's checkout ---------------------------------------------------------------------------------------

def test_checkout_at_pins_the_exact_commit_detached(repo: Path, tmp_path: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    (repo / "dlhub.yaml").write_text("name: later\n")
    commit_all(repo, "later")
    dest = checkout_at(repo.as_uri(), first, tmp_path / "work" / "checkout")
    assert git(dest, "rev-parse", "HEAD") == first
    assert subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], cwd=dest).returncode == 1  # detached
    assert (dest / "dlhub.yaml").read_text() == "name: one\n"


def test_a_commit_no_branch_reaches_is_fetched_by_id(repo: Path, tmp_path: Path) -> None:
    git(repo, "checkout", "-q", "-b", "topic")
    (repo / "topic.txt").write_text("t")
    topic = commit_all(repo, "topic")
    git(repo, "update-ref", "refs/pull/1/head", topic)  # like a pull request ref: not cloned by default
    git(repo, "checkout", "-q", "main")
    git(repo, "branch", "-q", "-D", "topic")
    # A local path clone copies every object, so go through git's transport as a remote clone would.
    subprocess.run(["git", "clone", "-q", "--no-local", "--no-checkout", str(repo), str(tmp_path / "co")], check=True)
    assert subprocess.run(["git", "cat-file", "-e", topic], cwd=tmp_path / "co").returncode != 0
    gitrepo._ensure_commit(open_repo(tmp_path / "co"), topic)
    assert git(tmp_path / "co", "cat-file", "-t", topic) == "commit"
    dest = checkout_at(str(repo), topic, tmp_path / "co2")  # and the public path gets there too
    assert (dest / "topic.txt").read_text() == "t"


def test_checkout_at_refuses_an_unknown_commit_and_cleans_up(repo: Path, tmp_path: Path) -> None:
    dest = tmp_path / "co"
    with pytest.raises(GitRepoError, match=r"cannot check out commit 0123456789ab from file://"):
        checkout_at(str(repo), "0123456789abcdef0123456789abcdef01234567", dest)
    assert not dest.exists()
    dest.mkdir()
    with pytest.raises(GitRepoError, match="cannot check out commit"):
        checkout_at(str(repo), "0123456789abcdef0123456789abcdef01234567", dest)
    assert dest.exists() and list(dest.iterdir()) == []


def test_checkout_at_refuses_bad_input(repo: Path, tmp_path: Path) -> None:
    sha = git(repo, "rev-parse", "HEAD")
    with pytest.raises(GitRepoError, match="is not a full commit sha"):
        checkout_at(str(repo), "HEAD", tmp_path / "a")
    with pytest.raises(GitRepoError, match="is not a full commit sha"):
        checkout_at(str(repo), "--upload-pack=touch /tmp/x", tmp_path / "a")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(GitRepoError, match="is not empty"):
        checkout_at(str(repo), sha, tmp_path / "full")
    with pytest.raises(GitRepoError, match="cannot check out commit .* from file://.*nowhere"):
        checkout_at(str(tmp_path / "nowhere"), sha, tmp_path / "b")


def test_errors_belong_to_the_one_root() -> None:
    assert issubclass(DirtyTreeError, GitRepoError) and issubclass(GitRepoError, DLHubManifestError)


def test_git_is_imported_lazily() -> None:
    code = ("import sys, dlhub_manifest.repository.checkout, dlhub_manifest.package.select, "
            "dlhub_manifest.package.archive; "
            "print('git' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert gitrepo.GIT_ENV["GIT_TERMINAL_PROMPT"] == "0"
