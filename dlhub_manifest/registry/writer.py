"""Writes that overlap with hashing: a thread writes while the caller hashes the next chunk, and the kernel
is asked to start writing finished stretches to disk at once, so the final fsync has little left to wait for.

Memory stays bounded: at most QUEUE chunks wait for the writer.
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
from types import TracebackType
from typing import BinaryIO

QUEUE = 4
WRITEBACK_BYTES = 32 << 20  # start disk writeback every 32 MiB


class BackgroundWriter:
    """`write(chunk)` hands bytes to a writer thread; leaving the block waits for it and re-raises its error."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="blob-writer", daemon=True)

    def __enter__(self) -> BackgroundWriter:
        self._thread.start()
        return self

    def write(self, chunk: bytes) -> None:
        """Queue `chunk` (blocks while QUEUE chunks are pending); raises the writer's error, if any."""
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and exc is None:
            raise self._error

    def _run(self) -> None:
        flushed = written = 0
        while (chunk := self._queue.get()) is not None:
            if self._error is not None:
                continue  # drain, so the producer never blocks on a dead writer
            try:
                self._out.write(chunk)
                written += len(chunk)
                if written - flushed >= WRITEBACK_BYTES:
                    _start_writeback(self._out, flushed, written - flushed)
                    flushed = written
            except BaseException as e:  # noqa: BLE001 - handed to the producer thread
                self._error = e


def _start_writeback(out: BinaryIO, offset: int, length: int) -> None:
    """Ask the kernel to write this stretch now (Linux starts writeback on DONTNEED) and not keep it cached."""
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    out.flush()
    with contextlib.suppress(OSError):  # only a hint
        advise(out.fileno(), offset, length, os.POSIX_FADV_DONTNEED)
