"""Preparing a git repository's publication: pin the commit, read dlhub.yaml at that commit, build from it.

The client refuses a dirty tree (unless allowed, which the provenance records), reads the manifest at the
pinned commit rather than the working tree, and builds the document from a checkout of that commit, exactly
with the same inspection `build` does; the worker then fetches the same commit and stores its files. A local
registry fetches a local repository from its folder; a registry over HTTP cannot read this machine's folders,
so it is sent the repository's `origin` URL (and fails the task, saying so, if the commit was not pushed).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlhub_manifest.errors import InvalidManifestError
from dlhub_manifest.manifest.load import MANIFEST_NAMES, Document, load_bytes
from dlhub_manifest.package.archive import DEFAULT_ZIP_NAME, DOCUMENT_NAME
from dlhub_manifest.publish.files import Prepared, Progress, hash_files
from dlhub_manifest.registry.contracts import Provenance, RepositoryRef

if TYPE_CHECKING:
    from git import Repo

    from dlhub_manifest.targets.base import Target

TOOL_OUTPUTS = (DOCUMENT_NAME, DEFAULT_ZIP_NAME)


@dataclass(frozen=True)
class Source:
    """An opened repository: where a worker can fetch it, and the project folder inside it."""

    repo: Repo
    fetch_url: str
    subdir: str
    local: bool


def prepare_repository(source: str, *, ref: str | None = None, allow_dirty: bool = False, inspect: bool = True,
                       with_files: bool = False, progress: Progress | None = None,
                       target: Target | None = None) -> Prepared:
    """Pin `ref` (default HEAD) of the repository at `source` (path or URL) and build its document there.

    `with_files` also selects and hashes the files at that commit (for a dry-run plan). `target`: the registry
    it is for (default: one on this machine); one elsewhere is sent a URL it can fetch, never a local path.
    """
    from dlhub_manifest.build import build_document
    from dlhub_manifest.repository.checkout import is_dirty, require_clean, resolve_ref

    progress = progress or Progress()
    with _opened(source) as src:
        outputs = _tool_outputs(src.subdir)
        dirty = src.local and is_dirty(src.repo, outputs)
        if dirty and not allow_dirty:
            require_clean(src.repo, outputs)
        commit, tag = resolve_ref(src.repo, ref)
        progress.stage(f"pinned commit {commit[:12]}" + (f" (tag {tag})" if tag else ""))
        fetch_url = _fetch_url(src, target, progress)
        doc = _manifest_at(src, commit)
        version, version_source = _version(doc, tag)
        if tag and not version:
            progress.stage(f"note: tag {tag} is not a version (MAJOR.MINOR.PATCH such as {_as_version(tag)}), so "
                           "the registry assigns the next patch; tag the commit "
                           f"v{_as_version(tag)} or set `version:` in dlhub.yaml to choose it")
        # `dirty` is recorded only when true: a clean tree is the norm and keeps documents as they were.
        # a registry elsewhere records the URL it fetches; a local one the canonical origin (it reads the folder)
        shown = fetch_url if fetch_url != src.fetch_url else _provenance_url(src)
        provenance: Provenance = {"repository": shown, "commit": commit}
        if tag or ref:
            provenance["ref"] = str(tag or ref)
        if dirty:
            provenance["dirty"] = True
        with _checkout(src, commit) as project:
            doc.project_dir = project
            document = build_document(doc, inspect=inspect, version=version, provenance=provenance)
            files = _files_at(project, doc.data, progress) if with_files else []
    repository: RepositoryRef = {"url": fetch_url, "commit": commit}
    if tag or ref:
        repository["ref"] = str(tag or ref)
    if src.subdir:
        repository["path"] = src.subdir
    return Prepared(document, str(doc.data["name"]), None, files, version, repository, version_source)


def _tool_outputs(subdir: str) -> set[str]:
    """What `build` and `package` write into the project by default: never published from the working tree
    (the document is rebuilt at the commit), so their presence does not make the tree dirty."""
    prefix = f"{subdir}/" if subdir else ""
    return {prefix + name for name in TOOL_OUTPUTS}


@contextlib.contextmanager
def _opened(source: str) -> Iterator[Source]:
    """A local repository as is, or a URL cloned (without a checkout) into a temporary folder."""
    from dlhub_manifest.repository.checkout import open_repo
    from dlhub_manifest.repository.urls import normalize_remote_url

    normalize_remote_url(source)  # refuses what is neither a path nor a git URL, with a clear message
    if "://" in source or _is_scp_like(source):
        with tempfile.TemporaryDirectory(prefix="dlhub-clone-") as tmp:
            yield Source(_clone(source, Path(tmp)), source, "", False)
        return
    repo = open_repo(source)
    top = Path(repo.working_tree_dir or repo.git_dir).resolve()
    folder = Path(source).resolve()
    subdir = "" if folder == top else folder.relative_to(top).as_posix()
    yield Source(repo, str(top), subdir, True)


def _fetch_url(src: Source, target: Target | None, progress: Progress) -> str:
    """Where the registry's worker fetches the commit: the folder for a local registry, else a remote URL."""
    from dlhub_manifest.repository.urls import as_sent

    if target is None or target.local() is not None:
        return src.fetch_url
    # the URL as configured (or given on the command line), credentials removed: exactly what will be fetched
    url = _origin_url(src) if src.local else as_sent(src.fetch_url)
    progress.stage(f"the registry will fetch the commit from {url}")  # no password: `as_sent` removed it
    return url


def _origin_url(src: Source) -> str:
    """The `origin` URL as configured, credentials removed; refused when there is none (a path is no use remotely)."""
    from dlhub_manifest.repository.checkout import GitRepoError, remote_url

    url = remote_url(src.repo, as_configured=True)
    if url is None:
        raise GitRepoError(f"the repository at {src.fetch_url} has no `origin` remote, and a registry over HTTP "
                           "cannot read a folder on this machine: push the commit to a remote the registry can "
                           "read (git remote add origin URL && git push origin HEAD), or publish the files "
                           "without --repo")
    return url


def _is_scp_like(source: str) -> bool:
    """`git@host:owner/repo`: a remote, even though it has no `://` (a local path never has `:` before `/`)."""
    head = source.split("/", 1)[0]
    return ":" in head and len(head.split(":", 1)[0]) > 1


def _clone(url: str, dest: Path) -> Repo:
    from git import Repo
    from git.exc import GitCommandError

    from dlhub_manifest.repository.checkout import GIT_ENV, GitRepoError
    from dlhub_manifest.repository.urls import strip_credentials

    try:
        return Repo.clone_from(url, dest, env=GIT_ENV, no_checkout=True)
    except GitCommandError as e:
        raise GitRepoError(f"cannot clone {strip_credentials(url)}: git exited with status {e.status}; check the "
                           "URL and that it can be read without a password") from None


def _manifest_at(src: Source, commit: str) -> Document:
    """dlhub.yaml as committed (not as in the working tree), loaded and checked without touching files."""
    from dlhub_manifest.manifest.load import MAX_BYTES
    from dlhub_manifest.manifest.validate import validate_document
    from dlhub_manifest.repository.checkout import GitRepoError, read_file_at

    prefix = f"{src.subdir}/" if src.subdir else ""
    for name in MANIFEST_NAMES:
        try:
            raw = read_file_at(src.repo, commit, prefix + name, max_bytes=MAX_BYTES)
        except GitRepoError:
            continue
        doc, problems = load_bytes(raw, f"{prefix}{name}@{commit[:12]}")
        problems += validate_document(doc, check_files=False) if doc is not None else []
        errors = [d for d in problems if d.severity == "error"]
        if doc is None or errors:
            raise InvalidManifestError(errors)
        return doc
    raise GitRepoError(f"{prefix}dlhub.yaml is not in commit {commit[:12]}; commit it (git add {prefix}dlhub.yaml "
                       "&& git commit) or pass the --ref that has it")


def _version(doc: Document, tag: str | None) -> tuple[str | None, str]:
    """The version the manifest sets, else the one a `v1.2.0` tag supplies, else None (the registry picks)."""
    from dlhub_manifest.repository.checkout import version_from_tag

    if doc.data.get("version"):
        return str(doc.data["version"]), "manifest"
    from_tag = version_from_tag(tag)
    return (from_tag, f"tag {tag}") if from_tag else (None, "")


def _as_version(tag: str) -> str:
    """A version spelled like `tag` (`2.1` -> `2.1.0`, `v3` -> `3.0.0`), for the hint; `1.0.0` otherwise."""
    numbers = tag.removeprefix("v").split(".")
    if 0 < len(numbers) <= 3 and all(n.isdigit() for n in numbers):
        return ".".join([*(str(int(n)) for n in numbers), "0", "0"][:3])
    return "1.0.0"


def _provenance_url(src: Source) -> str:
    from dlhub_manifest.repository.checkout import remote_url
    from dlhub_manifest.repository.urls import normalize_remote_url

    return (remote_url(src.repo) if src.local else None) or normalize_remote_url(src.fetch_url)


@contextlib.contextmanager
def _checkout(src: Source, commit: str) -> Iterator[Path]:
    """The project folder as of `commit`, in a temporary checkout that is removed afterwards."""
    from dlhub_manifest.manifest.paths import resolve_inside
    from dlhub_manifest.repository.checkout import checkout_at

    tmp = Path(tempfile.mkdtemp(prefix="dlhub-checkout-"))
    try:
        checkout_at(str(src.repo.git_dir) if not src.local else src.fetch_url, commit, tmp / "src")
        yield resolve_inside(tmp / "src", src.subdir, "dir") if src.subdir else tmp / "src"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _files_at(project: Path, data: dict[str, Any], progress: Progress) -> list[Any]:
    from dlhub_manifest.package.select import select_files

    return hash_files(project, select_files(project, data), progress, use_cache=False)
