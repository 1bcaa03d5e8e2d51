"""What a worker does with a claimed task: check the uploaded files (or fetch the repository at the pinned
commit and store the files its manifest selects), re-validate the document, then register the version."""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlhub_manifest.errors import DLHubManifestError, InvalidManifestError, RegistryError
from dlhub_manifest.registry.blobstore import BlobStore
from dlhub_manifest.registry.contracts import FileRecord, RepositoryRef
from dlhub_manifest.registry.document import block
from dlhub_manifest.registry.records import Queue, Records
from dlhub_manifest.registry.register import Registration, register
from dlhub_manifest.registry.request import PublishRequest, parse_request
from dlhub_manifest.registry.tasks import LeaseLost, Task

if TYPE_CHECKING:
    from dlhub_manifest.repository.policy import FetchPolicy


class PublicationFailed(RegistryError):
    """The publication cannot succeed as submitted; the message says why and what to change."""


@dataclass(frozen=True)
class Context:
    """What a task runs against: the registry folder, its blobs, its records and their task queue."""

    root: Path
    blobs: BlobStore
    queue: Queue
    records: Records
    work: str = "work"
    deadline: float | None = None  # time.monotonic() value after which the task has run out of time

    def work_dir(self) -> Path:
        """This worker's scratch folder (each worker has its own, so one never removes another's checkout)."""
        path = self.root / self.work
        path.mkdir(parents=True, exist_ok=True)
        return path

    def time_left(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


def execute(ctx: Context, task: Task, worker: str) -> None:
    """Run `task` to a final status; every expected failure becomes the task's message, not an exception."""
    try:
        req = parse_request(task.request, stored=True)
        reg = _from_repository(ctx, task, req) if req.repository else _from_files(ctx, task, req)
        _check_document(reg.document)
        if (left := ctx.time_left()) is not None and left < 0:
            raise PublicationFailed("the publication ran past this registry's time limit for a task and was "
                                    "stopped; nothing was registered. Publish again, or ask the administrator")
        register(ctx.records, task, worker, reg)
    except LeaseLost:
        raise
    except InvalidManifestError as e:
        problems = "; ".join(d.format_text() for d in e.diagnostics)
        ctx.queue.fail(task.id, worker, f"the manifest is invalid: {problems}. Fix dlhub.yaml and publish again")
    except DLHubManifestError as e:
        ctx.queue.fail(task.id, worker, str(e))


def _provenance(task: Task, document: dict[str, Any], source: str) -> dict[str, Any]:
    """The version's provenance record: the document's block plus how and by whom it was published."""
    return {**block(document, "provenance"), "source": source, "published_by": task.identity}


def _from_files(ctx: Context, task: Task, req: PublishRequest) -> Registration:
    """The uploaded files must all be stored, with the announced sizes (hashes were verified on upload)."""
    problems = []
    for f in req.files:
        size = ctx.blobs.size(f["sha256"])
        if size is None:
            problems.append(f"{f['path']} (sha256 {f['sha256'][:12]}) was never uploaded")
        elif size != f["size"]:
            problems.append(f"{f['path']}: stored blob has {size} bytes, the request says {f['size']}")
    if problems:
        raise PublicationFailed("files are missing from the registry: " + "; ".join(problems)
                                + ". The upload was probably interrupted: publish again")
    return Registration(req.document, req.files, req.version, _provenance(task, req.document, "files"), req.quota)


def _from_repository(ctx: Context, task: Task, req: PublishRequest) -> Registration:
    """Fetch the repository at the pinned commit, check its manifest there and store the files it selects.

    The document is the one the client built from a checkout of the same commit (with inspection, which a
    registry must never run on code it was sent); it has to name that commit and that manifest.
    """
    from dlhub_manifest.repository.fetch import fetch_commit
    from dlhub_manifest.repository.policy import FetchPolicy, check_url

    assert req.repository is not None
    repo = req.repository
    if block(req.document, "provenance").get("commit") != repo["commit"]:
        raise PublicationFailed(f"the document's provenance does not name commit {repo['commit'][:12]}; "
                                "build it from that commit (`dlhub-manifest publish --repo` does)")
    policy = FetchPolicy.from_json(req.policy)
    target = check_url(repo["url"], policy)  # again, here: the name may resolve differently than at submission
    work = ctx.work_dir()
    checkout = Path(tempfile.mkdtemp(prefix="checkout-", dir=work))
    try:
        ctx.queue.note(task.id, f"fetching {target.shown} at {repo['commit'][:12]}")
        fetch_commit(target, repo["commit"], checkout / "src", policy, timeout=ctx.time_left())
        project, data = _manifest_in(checkout / "src", repo)
        if data.get("name") != req.name:
            raise PublicationFailed(f"dlhub.yaml at commit {repo['commit'][:12]} names {data.get('name')!r}, "
                                    f"the document {req.name!r}; rebuild the document from that commit")
        files = _store_files(ctx, task, project, data, policy)
    except DLHubManifestError as e:
        raise _without_paths(e, checkout / "src") from e
    finally:
        shutil.rmtree(checkout, ignore_errors=True)
    return Registration(req.document, files, req.version, _provenance(task, req.document, "repository"),
                        req.quota)


def _without_paths(error: DLHubManifestError, top: Path) -> DLHubManifestError:
    """The same failure with the server's folders removed from its message (the caller sees repository paths)."""
    if isinstance(error, InvalidManifestError):
        return error
    text = str(error).replace(str(top.resolve()) + "/", "").replace(str(top) + "/", "")
    text = text.replace(str(top.resolve()), ".").replace(str(top), ".")
    return PublicationFailed(text) if text != str(error) else error


def _manifest_in(top: Path, repo: RepositoryRef) -> tuple[Path, dict[str, Any]]:
    """The project folder in a checkout and its manifest data, validated with its files.

    Neither the project folder nor the manifest may be a symlink: a link could lead the worker to a file of
    the server's and its parse errors would show that file to the caller.
    """
    from dlhub_manifest.manifest.load import MANIFEST_NAMES, load_file
    from dlhub_manifest.manifest.paths import PathProblem, resolve_inside
    from dlhub_manifest.manifest.validate import validate_document

    rel = repo.get("path", "")
    parts = rel.split("/") if rel else []
    if any(top.joinpath(*parts[:i]).is_symlink() for i in range(1, len(parts) + 1)):
        raise PublicationFailed(f"repository.path {rel!r} is a symlink at commit {repo['commit'][:12]}; name the "
                                "project folder itself")
    try:
        project = resolve_inside(top, rel, "dir") if rel else top
    except PathProblem:
        # the problem's own text names the worker's checkout folder: say it in the repository's terms only
        raise PublicationFailed(f"the commit has no folder {rel!r} to publish; publish from the folder that "
                                "holds dlhub.yaml, committed and pushed") from None
    links = [n for n in MANIFEST_NAMES if (project / n).is_symlink()]
    if links:
        raise PublicationFailed(f"{links[0]} is a symlink at commit {repo['commit'][:12]}; commit the manifest "
                                "itself")
    doc, problems = load_file(project, display=f"dlhub.yaml@{repo['commit'][:12]}")
    problems += validate_document(doc) if doc is not None else []
    errors = [d for d in problems if d.severity == "error"]
    if doc is None or errors:
        raise InvalidManifestError(errors)
    return project, doc.data


def _store_files(ctx: Context, task: Task, project: Path, data: dict[str, Any], policy: FetchPolicy
                 ) -> list[FileRecord]:
    from dlhub_manifest.package.select import file_mode, select_files
    from dlhub_manifest.util.humanize import human_size

    entries: list[FileRecord] = []
    for rel in select_files(project, data):
        path = project / rel
        if policy.max_file_bytes is not None and path.stat().st_size > policy.max_file_bytes:
            raise PublicationFailed(f"{rel} is {human_size(path.stat().st_size)}, over this registry's limit of "
                                    f"{human_size(policy.max_file_bytes)} for one file")
        with path.open("rb") as fh:
            sha256, size = ctx.blobs.ingest(fh)
        entries.append({"path": rel, "sha256": sha256, "size": size, "mode": file_mode(path)})
    total = sum(e["size"] for e in entries)
    ctx.queue.note(task.id, f"stored {len(entries)} files ({human_size(total)}) from the repository")
    return entries


def _check_document(document: dict[str, Any]) -> None:
    from dlhub_manifest.build import check_document

    problems = check_document(document)
    if problems:
        raise PublicationFailed("the servable document is not valid: " + "; ".join(problems)
                                + ". Rebuild it from a valid dlhub.yaml (`dlhub-manifest validate`) and publish again")
