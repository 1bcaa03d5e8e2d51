"""`HttpTarget`: the `Target` protocol over a registry served by `dlhub-manifest serve`.

Credentials come from `dlhub_manifest.credentials.login` (environment token, Globus client credentials, stored login);
HTTP and network failures become the library's own errors with a message that says what to do.
"""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from dlhub_manifest.credentials.userconfig import TargetConfig, resolve_target_config
from dlhub_manifest.errors import RegistryError, Unauthenticated
from dlhub_manifest.registry.browse import SEARCH_LIMIT
from dlhub_manifest.registry.contracts import PublicationRequest, ServableInfo, ServableSummary, TaskInfo

if TYPE_CHECKING:
    from globus_sdk.transport import RetryConfig

    from dlhub_manifest.credentials.login import AuthInfo, Credentials
    from dlhub_manifest.targets.http_client import RegistryClient

LIST_PAGE = 1000  # servables per request when listing: bounded responses, few round trips


class HttpTarget:
    """A registry over HTTP; every method is one API call (uploads: as many as it takes to finish)."""

    def __init__(self, config: TargetConfig, *, timeout: float | None = None, retry_config: RetryConfig | None = None,
                 upload_attempts: int = 6, sleep: Callable[[float], None] | None = None,
                 credentials: Credentials | None = None) -> None:
        self.config = config
        self._credentials = credentials  # given: explicit (login checks a token before storing it); else resolved
        self._client: RegistryClient | None = None
        self._direct: bool | None = None  # whether the registry takes direct uploads, asked once
        self._timeout, self._retry_config = timeout, retry_config
        self._upload_attempts, self._sleep = upload_attempts, sleep

    @classmethod
    def from_name(cls, target: str, **kwargs: Any) -> HttpTarget:
        """From a `--target` value: a URL or the name of a target in the user's config file."""
        return cls(resolve_target_config(target), **kwargs)

    @property
    def url(self) -> str:
        return self.config.url

    def local(self) -> None:
        """A registry over HTTP cannot read this machine's files: nothing local to offer."""

    @property
    def description(self) -> str:
        """`registry at URL (name)`, for messages such as `submitted task X to the registry at ...`."""
        named = f" ({self.config.name})" if self.config.name else ""
        return f"registry at {self.config.url}{named}"

    @property
    def credentials(self) -> Credentials:
        """The credentials for this registry, resolved on first use (see `credentials.login`)."""
        if self._credentials is None:
            from dlhub_manifest.credentials.login import resolve_credentials

            self._credentials = resolve_credentials(self.config, self.auth_info)
        return self._credentials

    @property
    def client(self) -> RegistryClient:
        """The API client, made on first use (it needs the credentials)."""
        if self._client is None:
            from dlhub_manifest.targets.http_client import RegistryClient

            self._client = RegistryClient(self.config.url, authorizer=self.credentials.authorizer,
                                          timeout=self._timeout, retry_config=self._retry_config)
        return self._client

    def auth_info(self) -> AuthInfo:
        """What the registry advertises at `/auth` (no credentials needed)."""
        from dlhub_manifest.credentials.login import AuthInfo
        from dlhub_manifest.targets.http_client import RegistryClient

        with self._errors(), RegistryClient(self.config.url, timeout=self._timeout) as anonymous:
            return AuthInfo.from_json(anonymous.auth_info())

    def missing_blobs(self, digests: Iterable[str]) -> set[str]:
        """The digests the registry does not hold yet (one round trip)."""
        with self._errors():
            return set(self.client.missing_blobs(sorted(set(digests))))

    def upload_blob(self, path: Path, sha256: str, size: int, progress: Callable[[int], object] | None = None) -> None:
        """Upload one file as a blob: straight to the registry's object store when it offers that, else
        streamed through the registry, resuming after interruptions; `progress(n)` gets bytes newly sent."""
        from dlhub_manifest.targets.http_direct import upload_direct
        from dlhub_manifest.targets.http_upload import upload_resumable

        sleep: dict[str, Any] = {"sleep": self._sleep} if self._sleep is not None else {}
        with self._errors():
            if self._direct_uploads and upload_direct(self.client, Path(path), sha256, size, progress, **sleep):
                return
            upload_resumable(self.client, Path(path), sha256, size, progress, attempts=self._upload_attempts,
                             **sleep)

    @property
    def _direct_uploads(self) -> bool:
        """Whether the registry hands out direct upload URLs (asked once; a registry without the route: no)."""
        if self._direct is None:
            import globus_sdk

            try:
                self._direct = bool(self.client.upload_options().get("direct"))
            except globus_sdk.GlobusAPIError as e:
                if e.http_status not in (404, 405):
                    raise
                self._direct = False
        return self._direct

    def download_blob(self, sha256: str, out: BinaryIO) -> None:
        """`GET /blobs/{sha256}`, streamed into `out`."""
        with self._errors():
            self.client.download_blob(sha256, out)

    def publish(self, request: PublicationRequest) -> str:
        """Queue a publication; its idempotency key makes the transport's retries safe."""
        body = request.copy()
        key = str(body.pop("idempotency_key", None) or uuid.uuid4())
        with self._errors():
            return str(self.client.publish(body, key)["task_id"])

    def task(self, task_id: str) -> TaskInfo:
        with self._errors():
            return self.client.task(task_id)

    def list_servables(self) -> list[ServableSummary]:
        """Every visible servable, LIST_PAGE at a time (a registry without paging answers in one page)."""
        found: list[ServableSummary] = []
        after: str | None = None
        with self._errors():
            while True:
                page = self.client.list_servables(LIST_PAGE, after)
                found += page["servables"]
                after = page.get("next")
                if not after:
                    return found

    def get_servable(self, owner: str, name: str, version: str | None = None) -> ServableInfo:
        with self._errors():
            return self.client.get_servable(owner, name, version)

    def search(self, text: str, limit: int = SEARCH_LIMIT) -> list[ServableSummary]:
        with self._errors():
            return list(self.client.search(text, limit)["results"])

    def whoami(self) -> dict[str, Any]:
        with self._errors():
            return {**self.client.whoami(), "target": self.config.url, "credentials": self.credentials.source}

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """globus-sdk errors → the library's errors (the same class and message as the registry's own), with
        what to do next (and never a token)."""
        import globus_sdk

        from dlhub_manifest.targets.http_client import library_error

        try:
            yield
        except globus_sdk.GlobusAPIError as e:
            error = library_error(e, self.config.url)
            if isinstance(error, Unauthenticated):
                error = Unauthenticated(f"{self.config.url}: {error}. Credentials used: {self._source()}; run "
                                        f"`dlhub-manifest login --target {self.config.name or self.config.url}` "
                                        "or set DLHUB_MANIFEST_TOKEN")
            raise error from e
        except globus_sdk.NetworkError as e:
            raise RegistryError(f"cannot reach the registry at {self.config.url}: {network_reason(e)}; check "
                                "that `dlhub-manifest serve` runs there and the URL is right") from e

    def _source(self) -> str:
        return self._credentials.source if self._credentials is not None else "none"


def network_reason(error: Exception) -> str:
    """Why a request never got an answer, in words (not a library's class name)."""
    import requests

    from dlhub_manifest.targets.http_client import CONNECT_TIMEOUT

    cause = getattr(error, "underlying_exception", None) or error.__cause__ or error
    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return (f"no answer to the connection attempt within {CONNECT_TIMEOUT:g} s (is the host up, and is the "
                "port open to this machine?)")
    if isinstance(cause, requests.exceptions.Timeout):
        return "it accepted the connection but did not answer in time"
    root = _root_os_error(cause)
    if isinstance(root, ConnectionRefusedError):
        return "connection refused (nothing is listening at that address and port)"
    if isinstance(root, socket.gaierror):
        return "the host name cannot be resolved"
    return (root.strerror if isinstance(root, OSError) and root.strerror else None) or str(cause) or "network error"


def _root_os_error(error: BaseException) -> BaseException | None:
    """The innermost OSError under requests' and urllib3's wrappers (a refused connection, a failed lookup)."""
    seen: set[int] = set()
    todo: list[object] = [error]
    found: BaseException | None = None
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, OSError) and not isinstance(item, requests_errors()):
            found = item
        todo += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
    return found


def requests_errors() -> tuple[type[BaseException], ...]:
    """requests' and urllib3's own exception classes, which subclass OSError but only wrap the real one."""
    import requests
    import urllib3

    return requests.RequestException, urllib3.exceptions.HTTPError
