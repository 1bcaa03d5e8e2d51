"""The payloads that cross a process or HTTP boundary, typed once: task status, tasks, publication requests,
servables and provenance.

The registry service produces them, the HTTP server sends them as JSON as they are, the targets return them
and the CLI renders them. The values are the wire's and the database's (a `TaskStatus` is its string).
"""

from __future__ import annotations

import enum
from typing import Any, TypedDict


class TaskStatus(str, enum.Enum):
    """A publication task's lifecycle: queued → running → succeeded | failed (the strings on the wire)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value

    @property
    def done(self) -> bool:
        """Whether the task has reached its end (it will not change again)."""
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED)


class TaskMessage(TypedDict):
    """One line of a task's log: when, how serious (`info`, `warning`, `error`), what."""

    time: float
    level: str
    text: str


class TaskResult(TypedDict):
    """What a task registered (or found already registered)."""

    servable: str
    version: str
    content_digest: str
    files: int
    bytes: int
    already_published: bool


class TaskInfo(TypedDict):
    """A task as `status` shows it: no request internals, no lease bookkeeping."""

    task_id: str
    status: str  # a TaskStatus value
    kind: str  # "files" or "repository"
    servable: str | None
    messages: list[TaskMessage]
    result: TaskResult | None
    attempts: int
    created_at: float
    updated_at: float


class FileRecord(TypedDict):
    """One file of a publication: its path in the project, sha256, size and mode (0o644 or 0o755)."""

    path: str
    sha256: str
    size: int
    mode: int


class _Repository(TypedDict):
    url: str
    commit: str


class RepositoryRef(_Repository, total=False):
    """Where a registry's worker fetches a repository publication: URL, pinned commit, tag or branch, folder."""

    ref: str
    path: str


class _Request(TypedDict):
    document: dict[str, Any]


class PublicationRequest(_Request, total=False):
    """What a client submits: the built document and its `files`, or the `repository` to fetch them from."""

    files: list[FileRecord]
    repository: RepositoryRef
    version: str
    idempotency_key: str
    # set by the registry when it queues the task, never accepted from a client: the limits to obey
    policy: dict[str, Any] | None
    quota: int


class Provenance(TypedDict, total=False):
    """The document's `provenance` block: the tool that built it and, for a repository, where it came from."""

    tool: str
    repository: str
    commit: str
    ref: str
    dirty: bool


class ServableVersion(TypedDict):
    """Which version of which servable: `OWNER/NAME`, this version, the latest one, every one, when published."""

    servable: str
    owner: str
    name: str
    version: str
    latest: str
    versions: list[str]
    published_at: float


class ServableInfo(ServableVersion):
    """One published version of a servable, with its document, file index and provenance."""

    files: list[FileRecord]
    document: dict[str, Any]
    provenance: dict[str, Any]
    content_digest: str
    task_id: str


class ServableSummary(ServableVersion):
    """A servable in a listing or search result: its latest version and what listings show of it."""

    title: str | None
    description: str | None
    creators: list[str]
    keywords: list[str]


class ServablePage(TypedDict):
    """`GET /servables`: one page of summaries, and the `next` cursor (`OWNER/NAME`; None on the last page)."""

    servables: list[ServableSummary]
    next: str | None


class SearchResults(TypedDict):
    """`GET /search`: the best matches, best first."""

    results: list[ServableSummary]
