"""The publication request a client submits, checked before it is queued (so bad input fails at once).

`{"document": {...}, "files": [{"path", "sha256", "size", "mode"}], "version": opt, "idempotency_key": opt}`
or `{"document": {...}, "repository": {"url", "commit", "ref": opt, "path": opt}, "version": opt}`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from dlhub_manifest.errors import UsageError
from dlhub_manifest.manifest.load import MANIFEST_NAMES
from dlhub_manifest.manifest.paths import PathProblem, check_relative
from dlhub_manifest.registry.blobs import check_digest
from dlhub_manifest.registry.contracts import FileRecord, PublicationRequest, RepositoryRef
from dlhub_manifest.util.versions import parse_version

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
MODES = (0o644, 0o755)
MAX_FILES = 100_000
STORED_FIELDS = frozenset({"policy", "quota"})
MAX_PATH = 1024  # bytes; file systems allow 4096, no model needs more
MAX_NAME = 255  # bytes per path part (the common file-system limit)
# control, format (bidi overrides, zero-width), surrogate, private-use, unassigned, line and paragraph separators
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


@dataclass(frozen=True)
class PublishRequest:
    """A checked request: files publishes carry `files`, repository publishes carry `repository`."""

    document: dict[str, Any]
    name: str
    files: tuple[FileRecord, ...] = ()
    repository: RepositoryRef | None = None
    version: str | None = None
    idempotency_key: str | None = None
    policy: dict[str, Any] | None = None
    quota: int | None = None

    @property
    def kind(self) -> str:
        return "repository" if self.repository else "files"


def parse_request(request: Any, *, stored: bool = False) -> PublishRequest:
    """Check a request's shape; every problem is a UsageError naming the field and the fix.

    `stored`: a request read back from a task, which may carry the fetch `policy` and the owner's storage `quota`
    the registry added when it queued the task (a client can never send them).
    """
    if not isinstance(request, dict):
        raise UsageError("a publication request is a JSON object with `document` and `files` or `repository`")
    unknown = set(request) - {"document", "files", "repository", "version", "idempotency_key"} - (
        STORED_FIELDS if stored else set())
    if unknown:
        raise UsageError(f"unknown request field(s): {', '.join(sorted(unknown))}")
    document = request.get("document")
    if not isinstance(document, dict) or not isinstance(document.get("dlhub"), dict):
        raise UsageError("request.document must be a servable document with a `dlhub` block (see `dlhub-manifest "
                         "build`)")
    name = document["dlhub"].get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise UsageError(f"request.document.dlhub.name {name!r} is not a valid servable name "
                         "(lower-case letters, digits, '.', '_', '-')")
    if ("files" in request) == ("repository" in request):
        raise UsageError("a publication request needs exactly one of `files` or `repository`")
    version = request.get("version")
    if version is not None:
        parse_version(version)
    key = request.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not 0 < len(key) <= 200):
        raise UsageError("request.idempotency_key must be a string of 1 to 200 characters")
    quota = request.get("quota") if stored else None
    if "repository" in request:
        return PublishRequest(document, name, repository=_repository(request["repository"]), version=version,
                              idempotency_key=key, policy=request.get("policy"), quota=quota)
    files = _files(request["files"])
    check_index(document, files)
    return PublishRequest(document, name, files=files, version=version, idempotency_key=key, quota=quota)


def to_json(req: PublishRequest) -> PublicationRequest:
    """The request as stored in the task (the inverse of `parse_request`)."""
    data: PublicationRequest = {"document": req.document}
    if req.version is not None:
        data["version"] = req.version
    if req.idempotency_key is not None:
        data["idempotency_key"] = req.idempotency_key
    if req.quota is not None:
        data["quota"] = req.quota
    if req.repository:
        data["repository"] = req.repository
        data["policy"] = req.policy
    else:
        data["files"] = list(req.files)
    return data


def _files(files: Any) -> tuple[FileRecord, ...]:
    if not isinstance(files, list) or len(files) > MAX_FILES:
        raise UsageError(f"request.files must be a list of at most {MAX_FILES} file entries")
    out: dict[str, FileRecord] = {}
    for i, entry in enumerate(files):
        item = _file(i, entry)
        if item["path"] in out:
            raise UsageError(f"request.files[{i}].path {item['path']!r} is listed twice")
        out[item["path"]] = item
    return tuple(out[p] for p in sorted(out))


def _file(i: int, entry: Any) -> FileRecord:
    where = f"request.files[{i}]"
    if not isinstance(entry, dict):
        raise UsageError(f"{where} must be an object with path, sha256, size and mode")
    path, size, mode = entry.get("path"), entry.get("size"), entry.get("mode", 0o644)
    clean = _clean_path(where, path)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise UsageError(f"{where}.size must be a non-negative integer")
    if mode not in MODES:
        raise UsageError(f"{where}.mode must be 0o644 (420) or 0o755 (493)")
    return {"path": clean, "sha256": check_digest(entry.get("sha256", "")), "size": size, "mode": mode}


def _clean_path(where: str, path: Any) -> str:
    """A relative path as a client produces one: printable, no `.git` part, within file-system name limits."""
    try:
        clean = str(check_relative(path)) if isinstance(path, str) else None
    except PathProblem as e:
        raise UsageError(f"{where}.path: {e.message}") from None
    if clean is None or clean == ".":
        raise UsageError(f"{where}.path must be a relative file path")
    if len(clean.encode("utf-8")) > MAX_PATH or any(len(p.encode("utf-8")) > MAX_NAME for p in clean.split("/")):
        raise UsageError(f"{where}.path is longer than {MAX_PATH} bytes (or has a part over {MAX_NAME}); "
                         "shorten the file name")
    bad = next((c for c in clean if unicodedata.category(c) in _HIDDEN_CATEGORIES), None)
    if bad is not None:
        raise UsageError(f"{where}.path {clean[:80]!r} holds the invisible or control character "
                         f"U+{ord(bad):04X}; rename the file")
    if ".git" in (p.lower() for p in clean.split("/")):
        raise UsageError(f"{where}.path {clean!r} is inside a .git folder, which is never published")
    return clean


def check_index(document: dict[str, Any], files: tuple[FileRecord, ...]) -> None:
    """Every file the document names (model, other files) must be in the file index."""
    listed = {f["path"] for f in files}
    if not listed & set(MANIFEST_NAMES):
        raise UsageError("request.files does not list the manifest (dlhub.yaml); a publication ships the manifest "
                         "with its files (`dlhub-manifest publish` does)")
    folders = {"/".join(p.split("/")[:i]) for p in listed for i in range(1, p.count("/") + 1)}
    missing = [p for p in _named_files(document.get("dlhub", {}).get("files")) if p not in listed | folders]
    if missing:
        raise UsageError(f"the document names {missing[0]!r} (dlhub.files) but request.files does not list it; "
                         "publish every file the servable needs")


def _named_files(files: Any) -> list[str]:
    """Paths in `dlhub.files` (`{role: path or [paths]}`), normalised like file index paths."""
    if not isinstance(files, dict):
        return []
    out: list[str] = []
    for value in files.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                try:
                    out.append(str(check_relative(item)))
                except PathProblem:
                    out.append(item)
    return out


def _repository(repo: Any) -> RepositoryRef:
    if not isinstance(repo, dict) or not isinstance(repo.get("url"), str) or not repo["url"].strip():
        raise UsageError("request.repository must be an object with `url` and `commit`")
    commit = repo.get("commit")
    if not isinstance(commit, str) or not COMMIT.match(commit):
        raise UsageError(f"request.repository.commit {commit!r} must be a full commit sha (40 hex digits)")
    ref, path = repo.get("ref"), repo.get("path")
    if ref is not None and not isinstance(ref, str):
        raise UsageError("request.repository.ref must be a string (a tag or branch name) or absent")
    if path is not None:
        try:
            path = str(check_relative(path)) if isinstance(path, str) else None
        except PathProblem as e:
            raise UsageError(f"request.repository.path: {e.message}") from None
        if path is None:
            raise UsageError("request.repository.path must be the project folder inside the repository")
    checked: RepositoryRef = {"url": repo["url"].strip(), "commit": commit}
    if ref is not None:
        checked["ref"] = ref
    if path is not None:
        checked["path"] = path
    return checked
