"""`RegistryClient`: the registry's HTTP API as a `globus_sdk.BaseClient` (auth, retries, errors for free).

globus-sdk's transport already retries connection errors, 429 (honouring Retry-After) and 5xx with
exponential backoff; POST /publications carries an Idempotency-Key so those retries never publish twice.
Blob uploads are the exception: a streamed body cannot be replayed by the transport, so `put_blob_range`
runs without transport retries and `http_upload` resumes from the server's offset instead.

A registry that cannot be reached is reported within seconds, not after globus-sdk's five retries: opening a
connection may take CONNECT_TIMEOUT seconds and is not retried when it timed out; a refused or reset
connection is retried CONNECTION_RETRIES times (a server restarting), a timed-out answer once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast
from urllib.parse import quote

import globus_sdk
from globus_sdk.transport import RequestsTransport, RetryCheckResult, RetryConfig, RetryContext
from globus_sdk.transport.representation_providers import RequestsRepresentationProvider

from dlhub_manifest.errors import DLHubManifestError, RegistryUnavailable, kind_for_answer, kind_of
from dlhub_manifest.registry.contracts import PublicationRequest, SearchResults, ServableInfo, ServablePage, TaskInfo

Progress = Callable[[int], object]
CHUNK = 1 << 20  # 1 MiB reads: few syscalls and Python iterations per GiB on loopback
COMPLETE_TIMEOUT = 1800.0  # seconds: the registry may read a large blob back from its store to verify it
CONNECT_TIMEOUT = 5.0  # seconds to open a connection: a registry that is up accepts at once
CONNECTION_RETRIES = 2  # a refused or dropped connection: tried three times in all (about 1 s of backoff)
TIMEOUT_RETRIES = 1  # an answer that did not come in time: asked once more (the idempotency key makes it safe)
QUICK_TIMEOUT = 4.0  # seconds for the answer to a tiny request (whoami, /auth) asked before any real work


class RegistryAPIError(globus_sdk.GlobusAPIError):
    """An error answer (4xx/5xx) from a dlhub-manifest registry; `library_error` turns it into the library's."""


def library_error(error: globus_sdk.GlobusAPIError, where: str) -> DLHubManifestError:
    """The library error an answer stands for (`errors.ERRORS`, by its `code`, else its status), with the
    registry's own message; an answer that is not the registry's (a proxy's page) names `where` and the status."""
    body = error.raw_json if isinstance(error.raw_json, dict) else {}
    code, message = body.get("code"), body.get("message")
    kind = kind_for_answer(code if isinstance(code, str) else None, error.http_status)
    if not isinstance(message, str) or not isinstance(code, str):
        text = (error.text or "").strip()[:200] or "an empty answer; is this the URL of a dlhub-manifest registry?"
        message = f"{where} answered HTTP {error.http_status}: {text}"
    return kind.cls.from_wire(message, body)


def _not_after_the_server_waited(ctx: RetryContext) -> RetryCheckResult:
    """Do not retry a `busy` answer: the registry already waited for its database before giving up."""
    response = ctx.response
    if response is not None and response.status_code == 503:
        try:
            body = response.json()
        except ValueError:
            return RetryCheckResult.no_decision
        if isinstance(body, dict) and body.get("code") == kind_of(RegistryUnavailable("")).code:
            return RetryCheckResult.do_not_retry
    return RetryCheckResult.no_decision


class FileSlice:
    """A file from `start` to its end as a request body with a known length, reporting bytes read."""

    def __init__(self, path: Path, start: int, size: int, progress: Progress | None) -> None:
        self._fh = path.open("rb")
        self._fh.seek(start)
        self._left = size - start
        self._progress = progress

    def __len__(self) -> int:
        return max(self._left, 0)

    def read(self, n: int = -1) -> bytes:
        """Read at least one CHUNK when asked for less: urllib3 asks for 16 KiB at a time."""
        want = self._left if n is None or n < 0 else min(max(n, CHUNK), self._left)
        data = self._fh.read(want) if want > 0 else b""
        self._left -= len(data)
        if data and self._progress:
            self._progress(len(data))
        return data

    def close(self) -> None:
        self._fh.close()


class _StreamProvider(RequestsRepresentationProvider):
    """Passes a file-like body through untouched (the stock providers only take text or JSON)."""

    def encode(self, method: str, url: str, params: dict[str, Any] | None, data: Any,
               headers: dict[str, str]) -> Any:
        import requests

        return requests.Request(method, url, data=data, params=self._prepare_params(params),
                                headers=self._prepare_headers(headers))


class RegistryClient(globus_sdk.BaseClient):
    """The registry API; one method per route of `schemas/registry-openapi.json`."""

    service_name = "dlhub_manifest_registry"
    error_class = RegistryAPIError

    def __init__(self, base_url: str, *, authorizer: globus_sdk.authorizers.GlobusAuthorizer | None = None,
                 timeout: float | None = None, retry_config: RetryConfig | None = None) -> None:
        transport = RequestsTransport(http_timeout=timeout)
        self.read_timeout = transport.http_timeout
        # requests takes (connect, read): a registry that is down fails in seconds, a slow answer still has time
        transport.http_timeout = _timeouts(self.read_timeout)  # type: ignore[assignment]
        transport.representation_providers["stream"] = _StreamProvider()
        super().__init__(base_url=base_url.rstrip("/") + "/", authorizer=authorizer, app_name="dlhub-manifest",
                         transport=transport, retry_config=retry_config)
        self._resources_to_close.append(transport)

    def _register_standard_retry_checks(self, retry_config: RetryConfig) -> None:
        """Our checks first (no retry of a `busy` answer; bounded network-failure retries), then globus-sdk's."""
        retry_config.checks.register_check(_not_after_the_server_waited)  # before the standard 5xx retries
        retry_config.checks.register_check(bound_network_retries)
        super()._register_standard_retry_checks(retry_config)

    def auth_info(self) -> dict[str, Any]:
        """`GET /auth`: how to obtain a token this registry accepts (no token needed)."""
        with self._quick():
            return self._json(self.get("auth", automatic_authorization=False))

    def whoami(self) -> dict[str, Any]:
        """`GET /whoami`: the identity behind the current token (a quick check before publishing)."""
        with self._quick():
            return self._json(self.get("whoami"))

    def missing_blobs(self, digests: list[str]) -> list[str]:
        """`POST /blobs/missing`: which of `digests` the registry does not hold yet."""
        return list(self._json(self.post("blobs/missing", data={"digests": digests}))["missing"])

    def upload_state(self, sha256: str) -> dict[str, Any]:
        """`GET /uploads/{sha256}`: `{offset, complete}`, how much of an upload the server already has."""
        return self._json(self.get(f"uploads/{sha256}"))

    def upload_options(self) -> dict[str, Any]:
        """`GET /uploads`: `{direct}`, whether blobs go straight to the registry's object store."""
        return self._json(self.get("uploads"))

    def begin_upload(self, sha256: str, size: int) -> dict[str, Any]:
        """`POST /uploads/{sha256}`: the plan for a direct upload (presigned URLs), or `{method: stream|stored}`."""
        return self._json(self.post(f"uploads/{sha256}", data={"size": size}))

    def complete_upload(self, sha256: str, receipt: dict[str, Any]) -> dict[str, Any]:
        """`POST /uploads/{sha256}/complete`: the registry verifies what its store received (which may mean
        reading it back: a long wait for a large blob; a retry after a lost answer finds it stored)."""
        with self.transport.tune(http_timeout=_timeouts(max(COMPLETE_TIMEOUT, self.read_timeout or 0))):  # type: ignore[arg-type]
            return self._json(self.post(f"uploads/{sha256}/complete", data=receipt))

    def put_blob_range(self, path: Path, sha256: str, start: int, size: int, progress: Progress | None) -> None:
        """`PUT /blobs/{sha256}` with the bytes of `path` from `start`; no transport retries (not replayable)."""
        body = FileSlice(path, start, size, progress)
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(len(body))}
        if start:
            headers["Content-Range"] = f"bytes {start}-{size - 1}/{size}"
        try:
            with self._without_retries():
                self.request("PUT", f"blobs/{sha256}", data=body, headers=headers,  # type: ignore[arg-type]
                             encoding="stream")
        finally:
            body.close()

    def download_blob(self, sha256: str, out: BinaryIO) -> None:
        """`GET /blobs/{sha256}`: the blob's bytes streamed into `out` (the caller verifies them)."""
        response = self.request("GET", f"blobs/{sha256}", stream=True)
        raw = response._raw_response  # the requests.Response, read in chunks rather than all at once
        try:
            for chunk in raw.iter_content(CHUNK):
                out.write(chunk)
        finally:
            raw.close()

    def publish(self, request: PublicationRequest, idempotency_key: str) -> dict[str, Any]:
        """`POST /publications`: submit; the same key always answers with the same task."""
        return self._json(self.post("publications", data=dict(request), headers={"Idempotency-Key": idempotency_key}))

    def task(self, task_id: str) -> TaskInfo:
        """`GET /tasks/{task_id}`."""
        return cast("TaskInfo", self._json(self.get(f"tasks/{task_id}")))

    def list_servables(self, limit: int, after: str | None = None) -> ServablePage:
        """`GET /servables?limit=N[&after=OWNER/NAME]`: a page of the servables the caller sees, and `next`."""
        params: dict[str, Any] = {"limit": limit, **({"after": after} if after else {})}
        return cast("ServablePage", self._json(self.get("servables", query_params=params)))

    def get_servable(self, owner: str, name: str, version: str | None = None) -> ServableInfo:
        """`GET /servables/{owner}/{name}[/versions/{version}]`."""
        parts = ["servables", owner, name, *(["versions", version] if version else [])]
        # Each segment quoted: an owner is any namespace (a Globus username has `@`, a tokens-file one maybe more).
        path = "/".join(quote(part, safe="@+") for part in parts)
        return cast("ServableInfo", self._json(self.get(path)))

    def search(self, text: str, limit: int) -> SearchResults:
        """`GET /search?q=text&limit=N`: the best `limit` matches."""
        return cast("SearchResults", self._json(self.get("search", query_params={"q": text, "limit": limit})))

    @contextlib.contextmanager
    def _quick(self) -> Iterator[None]:
        """A tiny request: its answer is due within QUICK_TIMEOUT (or the configured timeout, when shorter)."""
        read = QUICK_TIMEOUT if self.read_timeout is None else min(self.read_timeout, QUICK_TIMEOUT)
        with self.transport.tune(http_timeout=_timeouts(read)):  # type: ignore[arg-type]
            yield

    @contextlib.contextmanager
    def _without_retries(self) -> Iterator[None]:
        # RetryConfig.tune does not restore its settings when the body raises, so do it by hand
        saved = self.retry_config.max_retries
        self.retry_config.max_retries = 0
        try:
            yield
        finally:
            self.retry_config.max_retries = saved

    @staticmethod
    def _json(response: globus_sdk.GlobusHTTPResponse) -> dict[str, Any]:
        data = response.data
        return data if isinstance(data, dict) else {}


def _timeouts(read: float | None) -> tuple[float, float | None]:
    """(connect, read) seconds for requests; connecting never waits longer than reading would."""
    return (CONNECT_TIMEOUT if read is None else min(CONNECT_TIMEOUT, read), read)


def bound_network_retries(ctx: RetryContext) -> RetryCheckResult:
    """No retry after a connection attempt timed out, or once the network-failure retries are spent."""
    import requests

    error = ctx.exception
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return RetryCheckResult.do_not_retry
    if isinstance(error, requests.exceptions.Timeout) and ctx.attempt >= TIMEOUT_RETRIES:
        return RetryCheckResult.do_not_retry
    if isinstance(error, requests.exceptions.ConnectionError) and ctx.attempt >= CONNECTION_RETRIES:
        return RetryCheckResult.do_not_retry
    return RetryCheckResult.no_decision
