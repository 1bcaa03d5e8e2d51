"""`RegistryService`: every registry operation; the ones that touch records take the caller's `Identity`.

The local target calls it in-process and the HTTP app is a thin adapter over it, so both behave
the same. The records live in the folder's SQLite file, or in PostgreSQL when `database` is a
`postgresql://` URL; each thread gets its own connection; the service itself can be shared.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

from dlhub_manifest.errors import NotFoundError, UsageError
from dlhub_manifest.registry import browse
from dlhub_manifest.registry import store as q
from dlhub_manifest.registry.blobs import check_digest
from dlhub_manifest.registry.blobstore import BlobStore, Progress, open_blob_store
from dlhub_manifest.registry.browse import MAX_LIMIT, SEARCH_LIMIT
from dlhub_manifest.registry.contracts import FileRecord, PublicationRequest, ServableInfo, ServableSummary, TaskInfo
from dlhub_manifest.registry.document import visible_to
from dlhub_manifest.registry.execute import Context
from dlhub_manifest.registry.quota import check_storage
from dlhub_manifest.registry.records import Queue, Records, Row, Tx, open_records
from dlhub_manifest.registry.request import parse_request, to_json
from dlhub_manifest.registry.sqlite_records import SqliteRecords
from dlhub_manifest.registry.store import Store
from dlhub_manifest.registry.tasks import LEASE_SECONDS
from dlhub_manifest.repository.policy import FetchPolicy, check_url
from dlhub_manifest.util.versions import parse_version

MAX_WORDS = 32  # every word is a term of the query: more would be a denial of service, not a search


@dataclass(frozen=True)
class Identity:
    """Who is calling: an identity id, the namespace they publish under, and their group URNs."""

    id: str
    username: str
    groups: tuple[str, ...] = ()

    @classmethod
    def local(cls) -> Identity:
        """The local user: `local:<login>`, publishing under the login name (made safe for `OWNER/NAME`)."""
        try:
            login = getpass.getuser()
        except (KeyError, OSError):  # no $USER and no passwd entry (some containers)
            login = f"uid{os.getuid()}" if hasattr(os, "getuid") else "local"
        name = re.sub(r"[^A-Za-z0-9._-]+", "-", login).strip("-") or "local"
        return cls(f"local:{name}", name)

    def can_see(self, owner: str, document: dict[str, Any]) -> bool:
        """Owners see their servables; others see public ones or ones shared with their identity or groups."""
        return owner == self.username or bool({"public", self.id, *self.groups} & set(visible_to(document)))

    def viewer(self) -> browse.Viewer:
        """The same rule for the catalog's SQL."""
        return browse.Viewer(self.username, (self.id, *self.groups))


class RegistryService:
    """The registry's operations over one registry folder: its records (the folder's SQLite file, unless
    `database` names a PostgreSQL database that holds them instead) and its blob store (the folder's `blobs/`
    unless `blobs` is another, see `blobstore.open_blob_store`)."""

    def __init__(self, root: Path, *, database: str | None = None, blobs: BlobStore | None = None,
                 lease_seconds: float = LEASE_SECONDS, policy: FetchPolicy | None = None,
                 owner_storage: int | None = None) -> None:
        """`database`: a postgresql:// URL holding the records (None: the folder's SQLite file); `blobs`: where
        the blobs are (default: the folder's `blobs/`); `policy`: what repository fetches may reach (the default
        trusts the caller: this machine's user); `owner_storage`: the bytes one owner's versions may use (None:
        no limit)."""
        self.root = root
        self.database = database
        self.blobs = blobs if blobs is not None else open_blob_store(root)
        self.lease_seconds = lease_seconds
        self.policy = policy or FetchPolicy.local()
        self.owner_storage = owner_storage
        self._local = threading.local()

    @property
    def records(self) -> Records:
        """This thread's records (database connections are per thread)."""
        records: Records | None = getattr(self._local, "records", None)
        if records is None:
            records = self._local.records = open_records(self.root, self.database)
        return records

    @property
    def store(self) -> Store:
        """This thread's SQLite store (embedded registries only)."""
        records = self.records
        assert isinstance(records, SqliteRecords), "the registry's records are not in SQLite"
        return records.store

    @property
    def queue(self) -> Queue:
        return self.records.queue(self.lease_seconds)

    def context(self) -> Context:
        """What a worker needs to run tasks on this registry."""
        return Context(self.root, self.blobs, self.queue, self.records)

    def close(self) -> None:
        """Close this thread's database connection (a later call opens a new one)."""
        records: Records | None = getattr(self._local, "records", None)
        if records is not None:
            records.close()
            self._local.records = None

    # Blobs are content-addressed and shared: any caller the adapter let in may ask for or add bytes.
    def missing_blobs(self, digests: Iterable[str]) -> set[str]:
        """Which of `digests` the registry does not hold yet (upload only those)."""
        return self.blobs.missing(check_digest(d) for d in digests)

    def put_blob(self, stream: BinaryIO, sha256: str, size: int, progress: Progress | None = None) -> bool:
        """Store an upload after checking its hash and size; False when the blob was already there."""
        return self.blobs.put(stream, sha256, size, progress)

    def check_blob_visible(self, identity: Identity, sha256: str) -> None:
        """Raise NotFoundError unless the blob is stored and some published version the caller can see holds it.

        Blobs are shared by content, so reading one is allowed through any visible version; a blob only
        uploaded, or only in servables the caller cannot see, is "not found" (as an absent one).
        """
        check_digest(sha256)
        if self.records.exists() and self.blobs.size(sha256) is not None:
            holders = self.records.read(lambda tx: tx.blob_holders(sha256))
            if any(identity.can_see(row["owner"], q.loads(row["document"])) for row in holders):
                return
        raise NotFoundError(f"no published file with sha256 {sha256} is visible to you")

    def blob_path(self, identity: Identity, sha256: str) -> Path | None:
        """The local file holding a blob the caller may read (a folder store), or None when the store keeps it
        elsewhere (read it with `open_blob`)."""
        self.check_blob_visible(identity, sha256)
        return self.blobs.local_path(sha256)

    @contextlib.contextmanager
    def open_blob(self, identity: Identity, sha256: str) -> Iterator[BinaryIO]:
        """The bytes of a blob the caller may read, from whichever store holds it."""
        self.check_blob_visible(identity, sha256)
        with self.blobs.open(sha256) as fh:
            yield fh

    def publish(self, identity: Identity, request: PublicationRequest | dict[str, Any]) -> str:
        """Check and queue a publication (checked here: over HTTP it may be any JSON); returns the task id at
        once (a worker does the rest)."""
        req = replace(parse_request(request), quota=self.owner_storage)
        if req.repository:
            check_url(req.repository["url"], self.policy)  # refuse at once what the worker would refuse
            req = replace(req, policy=self.policy.to_json())
        elif self.owner_storage is not None and self.records.exists():
            limit = self.owner_storage  # fail early; the worker checks again when it registers
            self.records.read(lambda tx: check_storage(tx, identity.username, req.files, limit))
        return self.queue.create(identity.id, identity.username, req.kind, to_json(req),
                                 f"{identity.username}/{req.name}", req.idempotency_key)

    def task(self, identity: Identity, task_id: str) -> TaskInfo:
        """A task's status and messages (only its submitter sees it); a dead worker's task is reaped first."""
        if not self.records.exists():
            raise NotFoundError(f"no task {task_id!r}: the registry at {self.root} is empty")
        queue = self.queue
        queue.reap()
        task = queue.get(task_id)
        if task is None or task.identity != identity.id:
            raise NotFoundError(f"no task {task_id!r} (see the id `publish` printed)")
        return task.public()

    def list_servables(self, identity: Identity) -> list[ServableSummary]:
        """Every servable the caller can see, by OWNER/NAME, with its latest version's summary."""
        return self._read(lambda tx: tx.list_page(identity.viewer(), None, None)).items()

    def list_page(self, identity: Identity, *, limit: int = MAX_LIMIT, after: str | None = None) -> browse.Listing:
        """At most `limit` servables after the servable `after` (`OWNER/NAME`: the previous page's `next`);
        the listing's `next` is None on the last page."""
        _check_limit(limit)
        cursor = _parse_after(after)
        return self._read(lambda tx: tx.list_page(identity.viewer(), limit, cursor))

    def search(self, identity: Identity, text: str, *, limit: int | None = SEARCH_LIMIT) -> list[ServableSummary]:
        """Visible servables whose latest version mentions every word of `text` (title, description, creators,
        keywords, domains, DOIs, OWNER/NAME), best match first; at most `limit` (None: all)."""
        return self.search_page(identity, text, limit=limit).items()

    def search_page(self, identity: Identity, text: str, *, limit: int | None = SEARCH_LIMIT) -> browse.Listing:
        """`search` as stored summaries (the HTTP app serves them without decoding)."""
        _check_limit(limit)
        if len(text.split()) > MAX_WORDS:
            raise UsageError(f"a search may have at most {MAX_WORDS} words (got {len(text.split())}); use fewer, "
                             "more specific words")
        return self._read(lambda tx: tx.search(identity.viewer(), text, limit))

    def find(self, identity: Identity, text: str, filters: browse.Filters, *, limit: int = SEARCH_LIMIT,
             offset: int = 0) -> browse.Found:
        """`search` narrowed by `filters`, one page (`limit` results from `offset`) with the total count."""
        _check_limit(limit)
        if offset < 0:
            raise UsageError(f"offset must be 0 or more (got {offset})")
        if not self.records.exists():
            return browse.Found([], 0)
        return self.records.read(lambda tx: tx.find(identity.viewer(), text, filters, limit, offset))

    def history(self, identity: Identity, owner: str, name: str) -> list[dict[str, Any]]:
        """Every version of a servable the caller can see, oldest first: `{version, published_at}` each."""
        if not self.records.exists():
            raise _not_found(owner, name, None)

        def versions(tx: Tx) -> list[Row]:
            servable = tx.servable_row(owner, name)
            return list(tx.version_rows(servable["id"])) if servable else []

        rows = self.records.read(versions)
        seen = [r for r in rows if identity.can_see(owner, q.loads(r["document"]))]
        if not seen:
            raise _not_found(owner, name, None)
        return [{"version": r["version"], "published_at": r["created_at"]}
                for r in sorted(seen, key=lambda r: parse_version(r["version"]))]

    def get_servable(self, identity: Identity, owner: str, name: str, version: str | None = None) -> ServableInfo:
        """One version (default the latest) with its document, file index and provenance, plus every version."""
        if not self.records.exists():
            raise _not_found(owner, name, version)

        def lookup(tx: Tx) -> tuple[Row, list[Row], list[FileRecord]]:
            servable = tx.servable_row(owner, name)
            # only the versions the caller may see count: a private version's number is not shown to others
            rows = [r for r in (tx.version_rows(servable["id"]) if servable else [])
                    if identity.can_see(owner, q.loads(r["document"]))]
            row = _pick(rows, version)
            if row is None:
                raise _not_found(owner, name, version)
            return row, rows, [{"path": f["path"], "sha256": f["sha256"], "size": f["size"], "mode": f["mode"]}
                               for f in tx.file_rows(row["id"])]

        row, rows, files = self.records.read(lookup)
        versions = sorted((r["version"] for r in rows), key=parse_version)
        return {"servable": f"{owner}/{name}", "owner": owner, "name": name, "version": row["version"],
                "latest": versions[-1], "versions": versions, "published_at": row["created_at"], "files": files,
                "document": q.loads(row["document"]), "provenance": q.loads(row["provenance"]),
                "content_digest": row["content_digest"], "task_id": row["task_id"]}

    def whoami(self, identity: Identity) -> dict[str, Any]:
        """The caller as the registry sees them."""
        return {"id": identity.id, "username": identity.username, "groups": list(identity.groups),
                "registry": str(self.root)}

    def _read(self, query: Callable[[Tx], browse.Listing]) -> browse.Listing:
        """Run a catalog query; a registry that does not exist yet is empty (and is not created)."""
        if not self.records.exists():
            return browse.Listing([])
        return self.records.read(query)


def _check_limit(limit: int | None) -> None:
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise UsageError(f"limit must be between 1 and {MAX_LIMIT} (got {limit}); page through longer lists")


def _parse_after(after: str | None) -> tuple[str, str] | None:
    """`OWNER/NAME` → (owner, name); names never hold a slash, so the last one splits."""
    if after is None:
        return None
    owner, slash, name = after.rpartition("/")
    if not slash or not owner or not name:
        raise UsageError(f"after must be OWNER/NAME, the last servable of the previous page (got {after!r})")
    return owner, name


def _pick(rows: list[Row], version: str | None) -> Row | None:
    """The row of `version` (by semver precedence), or the latest when `version` is None."""
    if not rows:
        return None
    if version is None:
        return max(rows, key=lambda r: parse_version(r["version"]))
    wanted = parse_version(version)
    return next((r for r in rows if parse_version(r["version"]) == wanted), None)


def _not_found(owner: str, name: str, version: str | None) -> NotFoundError:
    what = f"{owner}/{name}" + (f"@{version}" if version else "")
    return NotFoundError(f"servable {what} is not in the registry (`dlhub-manifest list` shows what is there)")
