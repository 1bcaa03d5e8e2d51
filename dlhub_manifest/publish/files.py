"""Client-side publication: build → select → hash → ask what is missing → upload → submit → track.

Works against any `Target` (the local registry or one over HTTP). Hashes are streamed (constant memory)
and remembered per file, so publishing again reads only what changed and uploads only what is missing.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlhub_manifest.errors import DLHubManifestError, InvalidManifestError
from dlhub_manifest.manifest.load import Document
from dlhub_manifest.package.select import FileEntry
from dlhub_manifest.registry.contracts import Provenance, PublicationRequest, RepositoryRef, TaskInfo, TaskStatus
from dlhub_manifest.targets.base import Target
from dlhub_manifest.util.humanize import human_size

# A local task often settles within milliseconds of its submission: look soon, then back off.
FIRST_POLL_SECONDS = 0.002
LAST_POLL_SECONDS = 0.5
FileStore = Callable[[Path, Callable[[int], object]], tuple[str, int]]


class Progress:
    """What a publication is doing; this base ignores it (the CLI draws stage lines and byte bars)."""

    def stage(self, text: str) -> None:
        """A step begins: `hashing 3 files (1.0 GiB)`."""

    def begin(self, label: str, total: int) -> None:
        """A byte-counted step begins (hashing, uploading)."""

    def advance(self, n: int) -> None:
        """`n` more bytes of the current step are done."""

    def end(self) -> None:
        """The byte-counted step is over."""


class TaskTimeout(DLHubManifestError):
    """Waiting for a task ran out of time; the task itself goes on."""


@dataclass
class Prepared:
    """A publication ready to submit: the built document, its files and the version asked for (None: next)."""

    document: dict[str, Any]
    name: str
    project: Path | None
    files: list[FileEntry] = field(default_factory=list)
    version: str | None = None
    repository: RepositoryRef | None = None
    version_source: str = ""  # where `version` came from: "manifest", "tag v1.2.0"; empty when the registry picks
    stored: bool = False  # the files were stored in the (local) target while they were hashed

    def request(self) -> PublicationRequest:
        """The publication request for `Target.publish`; the idempotency key makes a retried submit safe."""
        req: PublicationRequest = {"document": self.document, "idempotency_key": str(uuid.uuid4())}
        if self.version:
            req["version"] = self.version
        if self.repository:
            req["repository"] = self.repository
        else:
            req["files"] = [f.record() for f in self.files]
        return req


def load_valid(path: str | Path) -> Document:
    """Load and validate the manifest at `path` (a dlhub.yaml or its folder); every problem raises at once."""
    from dlhub_manifest.manifest.validate import validate_path

    doc, report = validate_path(path)
    if doc is None or not report.ok:
        raise InvalidManifestError(report.errors)
    return doc


def check_target(target: Target) -> None:
    """Ask the target who we are before any inspection or hashing: missing or refused credentials and a
    registry that cannot be reached fail in seconds, not after the model was loaded and every file hashed."""
    target.whoami()


def local_store(target: Target) -> FileStore | None:
    """For a registry on this machine: start its worker now (it loads while we hash) and return its one-pass
    file store, which hashes and stores each file in a single read; None for a remote target."""
    local = target.local()
    if local is None:
        return None
    local.warm_up()
    return local.store_file


def prepare_files(path: str | Path, *, inspect: bool = True, progress: Progress | None = None,
                  use_cache: bool = True, target: Target | None = None,
                  provenance: Provenance | None = None) -> Prepared:
    """Validate, build and hash a project folder's publication (the files the manifest selects).

    Given the `target` it is for, a registry on this machine stores new files while they are hashed (see
    `local_store`); without one (a dry run) nothing is written anywhere. `use_cache`: reuse remembered
    hashes of unchanged files and inspections of unchanged models (both are checked, see `hashcache`).
    `provenance`: where the project comes from (repository, commit, ref), recorded in the document.
    """
    from dlhub_manifest.build import build_document
    from dlhub_manifest.package.select import select_files

    progress = progress or Progress()
    doc = load_valid(path)
    store = local_store(target) if target is not None else None
    # Building waits mostly on the inspection subprocess, so it runs while this thread hashes the files.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="build") as pool:
        building = pool.submit(build_document, doc, inspect=inspect, cache=use_cache, provenance=provenance)
        rels = select_files(doc.project_dir, doc.data, manifest_name=Path(doc.file).name)
        files = hash_files(doc.project_dir, rels, progress, use_cache, store)
        document = building.result()
    captured = sorted(set(shipped_files(doc, document)) - set(rels))  # modules the model's loading imported
    if captured:
        progress.stage(f"adding {len(captured)} imported project module(s) to the files: {', '.join(captured)}")
        files = sorted([*files, *hash_files(doc.project_dir, captured, Progress(), use_cache, store)],
                       key=lambda e: e.path)
    version = doc.data.get("version")
    return Prepared(document, str(doc.data["name"]), doc.project_dir, files, version,
                    version_source="manifest" if version else "", stored=store is not None)


def shipped_files(doc: Document, document: dict[str, Any]) -> list[str]:
    """What a project publishes: the files its manifest selects (role files included) plus the document's other
    files (which add the project modules that loading the model imported)."""
    from dlhub_manifest.package.select import select_files

    selected = set(select_files(doc.project_dir, doc.data, manifest_name=Path(doc.file).name))
    selected.update(document["dlhub"]["files"].get("other", []))
    return sorted(selected)


def hash_files(project: Path, rels: list[str], progress: Progress, use_cache: bool = True,
               store: FileStore | None = None) -> list[FileEntry]:
    """FileEntry for each path: remembered digests for unchanged files, streamed sha256 (or `store`) for the rest."""
    from dlhub_manifest.manifest.paths import resolve_inside
    from dlhub_manifest.package.hashcache import HashCache, caching_enabled
    from dlhub_manifest.package.select import file_mode
    from dlhub_manifest.util.locations import cache_dir

    cache = HashCache(cache_dir() / "hashes.sqlite3" if use_cache and caching_enabled() else None)
    try:
        stats = {rel: (real, os.stat(real)) for rel in rels for real in [resolve_inside(project, rel)]}
        known = {rel: cache.lookup(real, st) for rel, (real, st) in stats.items()}
        todo = [rel for rel, sha in known.items() if sha is None]
        started = time.time_ns()
        fresh = _scan(project, todo, sum(stats[r][1].st_size for r in todo), len(rels), progress, store)
        for entry in fresh:
            cache.remember(*stats[entry.path], entry.sha256, started)
    finally:
        cache.close()
    reused = [FileEntry(rel, stats[rel][1].st_size, sha, file_mode(stats[rel][0]))
              for rel, sha in known.items() if sha is not None]
    return sorted(reused + fresh, key=lambda e: e.path)


def _scan(project: Path, todo: list[str], total: int, count: int, progress: Progress,
          store: FileStore | None) -> list[FileEntry]:
    """Hash `todo` (storing it too when `store` is given), reporting bytes as they are read."""
    unchanged = f" of {count}; {count - len(todo)} unchanged since last hashed" if len(todo) < count else ""
    verb = "hashing and storing" if store else "hashing"
    progress.stage(f"{verb} {len(todo)} file(s){unchanged} ({human_size(total)})")
    progress.begin(verb, total)
    try:
        return _stored(project, todo, store, progress) if store else _hashed(project, todo, progress)
    finally:
        progress.end()


def _hashed(project: Path, todo: list[str], progress: Progress) -> list[FileEntry]:
    """files.scan, its cumulative (done, total) callbacks turned into byte increments."""
    from dlhub_manifest.package.select import scan

    done = [0]

    def tick(now: int, _total: int) -> None:
        progress.advance(now - done[0])
        done[0] = now

    return scan(project, todo, tick)


def _stored(project: Path, todo: list[str], store: FileStore, progress: Progress) -> list[FileEntry]:
    from dlhub_manifest.manifest.paths import resolve_inside
    from dlhub_manifest.package.select import file_mode

    entries = []
    for rel in todo:
        real = resolve_inside(project, rel)
        sha256, size = store(real, progress.advance)
        entries.append(FileEntry(rel, size, sha256, file_mode(real)))
    return entries


def upload_missing(target: Target, prepared: Prepared, progress: Progress) -> int:
    """Upload the files the target does not hold yet (each distinct blob once); returns bytes sent."""
    from dlhub_manifest.manifest.paths import resolve_inside

    if not prepared.files or prepared.project is None:
        return 0
    missing = target.missing_blobs({f.sha256 for f in prepared.files})
    todo = list({f.sha256: f for f in prepared.files if f.sha256 in missing}.values())
    total = sum(f.size for f in todo)
    if not todo:
        if not prepared.stored:  # after "hashing and storing", "nothing to upload" would read as a contradiction
            progress.stage(f"nothing to upload: the registry holds all {len(prepared.files)} file(s)")
        return 0
    progress.stage(f"uploading {len(todo)} new blob(s) ({human_size(total)}); "
                   f"{len(prepared.files) - len(todo)} file(s) already stored")
    progress.begin("uploading", total)
    try:
        for f in todo:
            target.upload_blob(resolve_inside(prepared.project, f.path), f.sha256, f.size, progress.advance)
    finally:
        progress.end()
    return total


def submit(target: Target, prepared: Prepared, progress: Progress | None = None) -> str:
    """Upload what is missing, then submit the publication; returns the task id at once."""
    progress = progress or Progress()
    upload_missing(target, prepared, progress)
    task_id = target.publish(prepared.request())
    progress.stage(f"submitted task {task_id} to the {target.description}")
    return task_id


def wait_for_task(target: Target, task_id: str, *, timeout: float | None = None,
                  on_update: Callable[[TaskInfo], object] | None = None) -> TaskInfo:
    """Poll the task until it succeeds or fails (`on_update(status)` after each poll); TaskTimeout after `timeout`."""
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = FIRST_POLL_SECONDS
    while True:
        status = target.task(task_id)
        if on_update is not None:
            on_update(status)
        if TaskStatus(status["status"]).done:
            return status
        if deadline is not None and time.monotonic() >= deadline:
            raise TaskTimeout(f"task {task_id} is still {status['status']} after {timeout:g} s; it goes on: follow "
                              f"it with `dlhub-manifest status {task_id} --wait`")
        pause = delay if deadline is None else max(0.0, min(delay, deadline - time.monotonic()))
        time.sleep(pause)
        delay = min(delay * 1.5, LAST_POLL_SECONDS)
