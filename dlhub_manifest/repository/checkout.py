"""Git repositories for `publish --repo`: clean-tree check, exact commit, tags, remote URL, files at a commit.

GitPython is imported inside each function, so commands that never touch git do not pay for loading it.
Every git failure becomes a `GitRepoError` that says what to do; URLs in messages never carry credentials.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from dlhub_manifest.errors import DLHubManifestError
from dlhub_manifest.manifest.paths import PathProblem, check_relative
from dlhub_manifest.repository.urls import as_sent, local_path, normalize_remote_url, strip_credentials
from dlhub_manifest.util.logsafe import redact
from dlhub_manifest.util.versions import Version, parse_version

if TYPE_CHECKING:
    from git import Repo
    from git.exc import GitCommandError
    from git.objects import Commit

__all__ = ["DirtyTreeError", "GitRepoError", "changed_paths", "checkout_at", "is_dirty", "list_files_at",
           "normalize_remote_url", "open_repo", "read_file_at", "remote_url", "require_clean", "resolve_ref",
           "version_from_tag"]

GIT_ENV = {"GIT_TERMINAL_PROMPT": "0"}  # a worker has no terminal: fail instead of waiting for a password
_FULL_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
_SYMLINK_MODE = 0o120000
_SHOWN_PATHS = 5


class GitRepoError(DLHubManifestError):
    """A git repository, ref, commit or file cannot be used as asked."""


class DirtyTreeError(GitRepoError):
    """The working tree has changes that a publication pinned to a commit would silently leave out."""


def open_repo(path: str | Path) -> Repo:
    """The repository holding `path` (the folder itself or any parent)."""
    from git import Repo
    from git.exc import InvalidGitRepositoryError, NoSuchPathError

    try:
        return Repo(path, search_parent_directories=True)
    except NoSuchPathError:
        raise GitRepoError(f"{path} does not exist; pass the folder of a git repository") from None
    except InvalidGitRepositoryError:
        raise GitRepoError(f"{path} is not in a git repository; run `git init` and commit the project, "
                           "or publish its files without --repo") from None


def changed_paths(repo: Repo, ignore: Collection[str] = ()) -> list[str]:
    """Paths (repository-relative) with staged or unstaged changes, or untracked and not ignored by git;
    `ignore` leaves out paths that never matter to a publication, such as the tool's own outputs."""
    if repo.bare:
        return []
    entries = repo.git.status("--porcelain=v1", "-z", "--untracked-files=all").split("\0")
    paths, i = [], 0
    while i < len(entries):
        entry = entries[i]
        i += 1
        if len(entry) < 4:
            continue
        if entry[0] in "RC":  # a rename or copy is followed by its old path
            i += 1
        paths.append(entry[3:])
    return [p for p in paths if p not in ignore]


def is_dirty(repo: Repo, ignore: Collection[str] = ()) -> bool:
    """True when there are staged or unstaged changes, or untracked files that are not ignored."""
    return bool(changed_paths(repo, ignore))


def require_clean(repo: Repo, ignore: Collection[str] = ()) -> None:
    """Refuse a dirty working tree, naming the first changed paths."""
    lines = changed_paths(repo, ignore)
    if not lines:
        return
    shown = ", ".join(lines[:_SHOWN_PATHS]) + (f" and {len(lines) - _SHOWN_PATHS} more"
                                               if len(lines) > _SHOWN_PATHS else "")
    raise DirtyTreeError(f"working tree has uncommitted changes: {shown}; commit them or pass --allow-dirty")


def resolve_ref(repo: Repo, ref: str | None = None) -> tuple[str, str | None]:
    """(full commit sha, tag) for `ref` (default HEAD); the tag is `ref` when it is one, else a tag at that commit.

    When several tags point at the commit, the highest semantic version wins.
    """
    from git.exc import GitCommandError

    if ref is not None and (not ref.strip() or ref.startswith("-")):
        raise GitRepoError(f"{ref!r} is not a git ref; pass a tag, branch or commit sha")
    try:
        sha = repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{ref or 'HEAD'}^{{commit}}").strip()
    except GitCommandError:
        if ref is None:
            raise GitRepoError(f"{_where(repo)} has no commits yet; commit the project first") from None
        raise GitRepoError(f"ref {ref!r} not found in {_where(repo)}; list tags with `git tag` and branches with "
                           "`git branch -a`, or fetch them first") from None
    tags = repo.git.tag("--points-at", sha).split()
    name = ref.removeprefix("refs/tags/") if ref else None
    return sha, name if name in tags else _best_tag(tags)


def _best_tag(tags: list[str]) -> str | None:
    versions = [(v, t) for t in tags if (v := _tag_version(t)) is not None]
    if versions:
        return max(versions, key=lambda pair: pair[0])[1]
    return tags[0] if len(tags) == 1 else None


def _tag_version(tag: str) -> Version | None:
    text = tag.removeprefix("refs/tags/")
    text = text[1:] if text[:1] == "v" else text
    try:
        return parse_version(text)
    except DLHubManifestError:
        return None


def version_from_tag(tag: str | None) -> str | None:
    """`v1.2.0` or `1.2.0` → `1.2.0` (prerelease and build parts kept); None when the tag is not a version."""
    version = _tag_version(tag) if tag else None
    return str(version) if version is not None else None


def remote_url(repo: Repo, *, as_configured: bool = False) -> str | None:
    """The normalised URL of `origin` (or, `as_configured`, the URL exactly as configured minus credentials),
    or None when the repository has no such remote."""
    try:
        url = repo.remote("origin").url
    except ValueError:
        return None
    base = Path(repo.working_tree_dir or repo.git_dir)
    return as_sent(url, base) if as_configured else normalize_remote_url(url, base=base)


def read_file_at(repo: Repo, commit: str, relpath: str, max_bytes: int | None = None) -> bytes:
    """The content of `relpath` in `commit`'s tree (not the working tree)."""
    try:
        rel = check_relative(relpath).as_posix()
    except PathProblem as e:
        raise GitRepoError(f"cannot read {relpath!r} from git: {e.message}") from None
    tree = _commit(repo, commit).tree
    try:
        item = tree / rel
    except KeyError:
        raise GitRepoError(f"{rel} is not in commit {commit[:12]}; commit it (git add {rel} && git commit) "
                           "or pass the --ref that has it") from None
    if item.type != "blob" or item.mode == _SYMLINK_MODE:
        what = "a symlink" if item.type == "blob" else ("a directory" if item.type == "tree" else "a submodule")
        raise GitRepoError(f"{rel} is {what} in commit {commit[:12]}, not a file; commit the file itself")
    if max_bytes is not None and item.size > max_bytes:
        raise GitRepoError(f"{rel} is {item.size} bytes in commit {commit[:12]}; the limit is {max_bytes}")
    data: bytes = item.data_stream.read()
    return data


def list_files_at(repo: Repo, commit: str) -> list[str]:
    """Every file path (posix, sorted) in `commit`'s tree; submodules are not files and are left out."""
    sha = _commit(repo, commit).hexsha
    listing = repo.git.ls_tree("-r", "-z", "--full-tree", sha)
    files = []
    for record in filter(None, listing.split("\0")):
        meta, path = record.split("\t", 1)
        if meta.split()[1] == "blob":
            files.append(path)
    return sorted(files)


def _commit(repo: Repo, commit: str) -> Commit:
    from git.exc import BadName, BadObject

    try:
        return repo.commit(commit)
    except (BadName, BadObject, ValueError):
        raise GitRepoError(f"commit {commit!r} not found in {_where(repo)}") from None


def checkout_at(url_or_path: str | Path, commit: str, dest: str | Path) -> Path:
    """Clone `url_or_path` into empty `dest` and check out exactly `commit`, detached (the worker's view)."""
    from git import Repo
    from git.exc import GitCommandError

    if not _FULL_SHA.match(commit):
        raise GitRepoError(f"{commit!r} is not a full commit sha; pin publications with `git rev-parse HEAD`")
    target = Path(dest)
    if target.exists() and any(target.iterdir()):
        raise GitRepoError(f"{target} is not empty; a checkout needs an empty folder")
    source, shown = _source(url_or_path)
    created = not target.exists()
    try:
        repo = Repo.clone_from(source, target, env=GIT_ENV, no_checkout=True)
        repo.git.update_environment(**GIT_ENV)
        _ensure_commit(repo, commit)
        repo.git.checkout("--detach", "--quiet", commit)
    except GitCommandError as e:
        _discard(target, created)
        raise GitRepoError(f"cannot check out commit {commit[:12]} from {shown}: {_git_reason(e)}; check that "
                           "the commit was pushed and the repository can be read without a password") from None
    return target


def _source(url_or_path: str | Path) -> tuple[str, str]:
    """(what to hand git, what to show the user): local paths made absolute, URLs shown without credentials."""
    text = str(url_or_path)
    shown = normalize_remote_url(text)
    if shown.startswith("file://"):
        return str(local_path(text)), shown
    return text, shown


def _ensure_commit(repo: Repo, commit: str) -> None:
    """Fetch `commit` by id when the clone's branches and tags do not reach it (e.g. a deleted branch)."""
    from git.exc import GitCommandError

    try:
        repo.git.cat_file("-e", f"{commit}^{{commit}}")
    except GitCommandError:
        repo.git.fetch("--quiet", "origin", commit)


def _discard(target: Path, created: bool) -> None:
    """Leave `target` as it was before a failed checkout: gone if we made it, else empty."""
    if created:
        shutil.rmtree(target, ignore_errors=True)
        return
    for child in target.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _git_reason(error: GitCommandError) -> str:
    """The last meaningful line git printed, without credentials or tokens."""
    stderr = str(error.stderr or "").strip().strip("'").strip()
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    reason = lines[-1] if lines else f"git exited with status {error.status}"
    return redact(strip_credentials(reason.removeprefix("stderr: ").strip("'")))


def _where(repo: Repo) -> str:
    return str(repo.working_tree_dir or repo.git_dir)
