"""Direct uploads: send a blob's bytes to the presigned URLs the registry hands out, then ask it to verify.

The URLs point at the registry's object store, so these PUTs carry no registry token (a separate HTTP
session without our authorizer). A multipart plan's parts go PARALLEL at a time; each part is a slice of
the file, so a failed part is simply sent again (with backoff, ATTEMPTS times) without restarting the rest.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from dlhub_manifest.errors import RegistryError
from dlhub_manifest.targets.http_client import FileSlice, Progress, RegistryClient

PARALLEL = 8
ATTEMPTS = 5
RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
STORE_TIMEOUT = (30.0, 300.0)  # (connect, between bytes) seconds for the object store


def upload_direct(client: RegistryClient, path: Path, sha256: str, size: int, progress: Progress | None = None,
                  *, sleep: Callable[[float], None] = time.sleep) -> bool:
    """Upload `path` as blob `sha256` the way the registry's plan says; False when the registry wants it
    streamed through itself instead (`PUT /blobs`)."""
    plan = client.begin_upload(sha256, size)
    method = plan.get("method")
    if method == "stream":
        return False
    if method == "stored":
        if progress is not None:
            progress(size)
        return True
    etags = send_plan(plan, path, size, progress, sleep=sleep)
    receipt: dict[str, Any] = {"size": size, "upload": plan["upload"], "upload_id": plan.get("upload_id"),
                               "parts": [{"number": n, "etag": e} for n, e in sorted(etags.items())]}
    client.complete_upload(sha256, receipt)
    return True


class _Locked:
    """`progress` called from several part threads, one at a time."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress, self._lock = progress, threading.Lock()

    def __call__(self, n: int) -> None:
        if self._progress is not None:
            with self._lock:
                self._progress(n)


def send_plan(plan: dict[str, Any], path: Path, size: int, progress: Progress | None = None, *,
              sleep: Callable[[float], None] = time.sleep) -> dict[int, str]:
    """PUT every part of the plan, PARALLEL at a time (a single PUT is part 1: the whole file); returns part
    number → ETag."""
    import requests

    locked = _Locked(progress)
    urls: list[str] = plan["urls"]
    part = int(plan.get("part_size") or size)
    headers = {str(k): str(v) for k, v in (plan.get("headers") or {}).items()}
    with requests.Session() as session, ThreadPoolExecutor(min(PARALLEL, len(urls)) or 1) as pool:
        def one(n: int) -> tuple[int, str]:
            start = (n - 1) * part
            return n, _put_part(session, urls[n - 1], path, start, min(size, start + part), headers, locked,
                                sleep)

        return dict(pool.map(one, range(1, len(urls) + 1)))


def _put_part(session: Any, url: str, path: Path, start: int, end: int, headers: dict[str, str],
              progress: _Locked, sleep: Callable[[float], None]) -> str:
    """PUT bytes [start, end) of `path` to `url`, retried with backoff; returns the ETag the store gave it."""
    import requests

    reported = 0  # bytes of this part already shown as progress: a retry does not count them twice

    def count(n: int, sent: list[int]) -> None:
        nonlocal reported
        sent[0] += n
        if sent[0] > reported:
            progress(sent[0] - reported)
            reported = sent[0]

    for attempt in range(1, ATTEMPTS + 1):
        sent = [0]
        body = FileSlice(path, start, end, lambda n, sent=sent: count(n, sent))  # type: ignore[misc]
        try:
            response = session.put(url, data=body, timeout=STORE_TIMEOUT,
                                   headers={**headers, "Content-Length": str(end - start)})
        except requests.RequestException as e:
            response, error, retryable = None, type(e).__name__, True
        finally:
            body.close()
        if response is not None:
            if response.ok:
                return str(response.headers.get("ETag", ""))
            error = f"HTTP {response.status_code}: {response.text[:200]}"
            retryable = response.status_code in RETRY_STATUS
        if not retryable or attempt == ATTEMPTS:
            raise RegistryError(f"the registry's object store refused the upload of {path.name} (bytes {start}-"
                                f"{end - 1}): {error}; check the registry's S3 settings or publish again")
        sleep(min(10.0, (0.25 + 0.5 * random.random()) * 2 ** (attempt - 1)))
    raise AssertionError("unreachable: the last attempt returns or raises")
