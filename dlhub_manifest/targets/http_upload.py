"""A blob upload that survives the network: ask the server what it has, send the rest, retry with backoff.

The server keeps whatever bytes arrived before a connection dropped, so after a failure we resume at its
offset instead of re-sending the whole file. A 409 (offset mismatch, or another upload of the same blob in
flight) is answered the same way: re-read the offset, wait, go on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import globus_sdk

from dlhub_manifest.errors import RegistryError
from dlhub_manifest.targets.http_client import Progress, RegistryClient

RETRY_STATUS = frozenset({409, 429, 500, 502, 503, 504})


class _Meter:
    """Turns bytes read (which may be re-read after a resume) into monotonic progress."""

    def __init__(self, progress: Progress | None, start: int) -> None:
        self._progress, self.high, self.pos = progress, start, start

    def restart(self, offset: int) -> None:
        self.pos = offset

    def __call__(self, n: int) -> None:
        self.pos += n
        if self.pos > self.high:
            if self._progress:
                self._progress(self.pos - self.high)
            self.high = self.pos


def upload_resumable(client: RegistryClient, path: Path, sha256: str, size: int, progress: Progress | None = None,
                     *, attempts: int = 6, sleep: Callable[[float], None] = time.sleep,
                     max_sleep: float = 10.0) -> int:
    """Upload `path` as blob `sha256`; returns how many attempts it took. Raises RegistryError when out of tries."""
    offset = _server_offset(client, sha256, size)
    meter = _Meter(progress, 0)
    meter(size if offset < 0 else offset)
    for attempt in range(1, attempts + 1):
        if offset < 0:
            return attempt
        meter.restart(offset)
        try:
            client.put_blob_range(path, sha256, offset, size, meter)
            return attempt
        except (globus_sdk.NetworkError, globus_sdk.GlobusAPIError) as e:
            if not _retryable(e) or attempt == attempts:
                raise
            sleep(min(max_sleep, (0.25 + 0.5 * random.random()) * 2 ** (attempt - 1)))
            offset = _server_offset(client, sha256, size)
    raise RegistryError(f"upload of {path.name} did not finish after {attempts} attempts")


def _retryable(error: Exception) -> bool:
    if isinstance(error, globus_sdk.GlobusAPIError):
        return error.http_status in RETRY_STATUS
    return True


def _server_offset(client: RegistryClient, sha256: str, size: int) -> int:
    """Bytes of this blob the server already holds; -1 once it has the whole blob."""
    state = client.upload_state(sha256)
    if state.get("complete"):
        return -1
    return min(int(state.get("offset", 0)), size)
