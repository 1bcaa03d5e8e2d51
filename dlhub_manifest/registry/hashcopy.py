"""Copy bytes into a blob's temp file while hashing them: the registry's one hash-while-copy pipeline.

A reader thread fills large aligned buffers (with `preadv` from a regular file, else from the stream's `read`),
the calling thread hashes each one, and a writer thread puts it on the disk with O_DIRECT, all three at once.
The digest is of the very buffers that are written, so the blob is named by the bytes it holds even if the
source changes meanwhile. O_DIRECT skips the page cache: no gigabyte of cache pages to allocate, fill and
write back later (in a VM, allocating fresh pages was the most variable cost of a publish), and the data is
already on the device when the final fsync comes. Where O_DIRECT is refused (tmpfs), for a short tail, or
for a copy too small to be worth threads, the same pipeline writes through the page cache from one thread.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import mmap
import os
import queue
import stat
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

BUFFER = 4 << 20  # bytes per read, hash and write; a multiple of ALIGN
BUFFERS = 4  # in flight at once: peak memory is BUFFER * BUFFERS
ALIGN = 4096  # O_DIRECT needs offsets, lengths and addresses aligned to the device's block size
THREADED_BYTES = 8 << 20  # smaller copies are read and written by the calling thread, through the page cache
O_DIRECT = getattr(os, "O_DIRECT", 0)
Progress = Callable[[int], object]
_Job = tuple[mmap.mmap, int, int]  # buffer, length, offset in the copy


def copy_hashing(src: BinaryIO, dst: int, *, limit: int | None = None,
                 progress: Progress | None = None) -> tuple[str, int]:
    """Copy `src` from its current position (at most `limit` bytes) into the empty file `dst`; returns (sha256
    of what `dst` now holds, its size). `progress(n)` hears of each `n` bytes copied."""
    source = _Source(src, limit)
    threaded = source.expected >= THREADED_BYTES
    digest = hashlib.sha256()
    done = 0
    with _Writer(dst, threaded) as writer, _Reader(source, writer.free, threaded) as reader:
        for buffer, n, at in reader:
            digest.update(memoryview(buffer)[:n])
            writer.submit((buffer, n, at))
            done += n
            if progress is not None:
                progress(n)
    if writer.error is not None:
        raise writer.error
    return digest.hexdigest(), done


class _Source:
    """Where the bytes come from: a regular file read by offset (no shared position), or any other stream."""

    def __init__(self, stream: BinaryIO, limit: int | None) -> None:
        self.limit = limit
        self._stream = stream
        self._fd = _regular_fd(stream)
        self._start = stream.tell() if self._fd is not None else 0
        size = os.fstat(self._fd).st_size - self._start if self._fd is not None else 0
        self.expected = limit if limit is not None else size

    def read_into(self, buffer: mmap.mmap, want: int, at: int) -> int:
        """Fill the start of `buffer` with up to `want` bytes found `at` bytes into the copy; 0 at the end."""
        if self._fd is not None:
            return os.preadv(self._fd, [memoryview(buffer)[:want]], self._start + at)
        data = self._stream.read(want)
        buffer[:len(data)] = data
        return len(data)


def _regular_fd(stream: BinaryIO) -> int | None:
    """The descriptor of `stream` when it is a regular file, else None."""
    try:
        fd = stream.fileno()
        return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None
    except (OSError, AttributeError, ValueError):  # io.UnsupportedOperation is an OSError and a ValueError
        return None


class _Writer:
    """Writes filled buffers at their offsets (in a thread when `threaded`) and hands each buffer back."""

    def __init__(self, fd: int, threaded: bool) -> None:
        self._fd = fd
        self._direct = threaded and _set_direct(fd, True)
        self.free: queue.Queue[mmap.mmap] = queue.Queue()
        for _ in range(BUFFERS if threaded else 1):
            self.free.put(mmap.mmap(-1, BUFFER))
        self._jobs: queue.Queue[_Job | None] | None = queue.Queue() if threaded else None
        self._thread = threading.Thread(target=self._run, name="blob-writer", daemon=True) if threaded else None
        self.error: BaseException | None = None

    def __enter__(self) -> _Writer:
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._jobs is not None and self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
        _set_direct(self._fd, False)
        while not self.free.empty():
            self.free.get().close()

    def submit(self, job: _Job) -> None:
        """Write `job` now, or queue it for the thread; raises the thread's error, if any."""
        if self.error is not None:
            raise self.error
        if self._jobs is not None:
            self._jobs.put(job)
            return
        try:
            self._write(*job)
        finally:
            self.free.put(job[0])

    def _run(self) -> None:
        assert self._jobs is not None
        while (job := self._jobs.get()) is not None:
            if self.error is None:  # after an error, only hand the buffers back so the reader never blocks
                try:
                    self._write(*job)
                except BaseException as e:  # noqa: BLE001 - raised in the reading thread by `submit`
                    self.error = e
            self.free.put(job[0])

    def _write(self, buffer: mmap.mmap, length: int, offset: int) -> None:
        if self._direct and (length % ALIGN or offset % ALIGN):
            self._direct = _set_direct(self._fd, False)  # a short tail: through the page cache from here on
        view = memoryview(buffer)[:length]
        try:
            while view:
                try:
                    written = os.pwritev(self._fd, [view], offset)
                except OSError as e:
                    if e.errno != errno.EINVAL or not self._direct:
                        raise
                    self._direct = _set_direct(self._fd, False)  # the device wants another alignment
                    continue
                view, offset = view[written:], offset + written
        finally:
            view.release()


def _set_direct(fd: int, on: bool) -> bool:
    """Turn O_DIRECT on or off for `fd`; returns whether it is now on (False where it is not supported)."""
    if not O_DIRECT:
        return False
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | O_DIRECT if on else flags & ~O_DIRECT)
    except OSError:
        return False
    return on


class _Reader:
    """Fills free buffers from the source (in a thread when `threaded`), yielding `(buffer, length, offset)`."""

    def __init__(self, source: _Source, free: queue.Queue[mmap.mmap], threaded: bool) -> None:
        self._source, self._free = source, free
        self._filled: queue.Queue[_Job | None] | None = queue.Queue() if threaded else None
        self._thread = threading.Thread(target=self._run, name="blob-reader", daemon=True) if threaded else None
        self._stop = False
        self.error: BaseException | None = None

    def __enter__(self) -> _Reader:
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread is not None:
            self._stop = True
            self._free.put(mmap.mmap(-1, BUFFER))  # wakes a reader waiting for a buffer; it then sees the stop
            self._thread.join()

    def __iter__(self) -> Iterator[_Job]:
        if self._filled is None:
            yield from self._jobs()
            return
        while (job := self._filled.get()) is not None:
            yield job
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        assert self._filled is not None
        try:
            for job in self._jobs():
                self._filled.put(job)
        except BaseException as e:  # noqa: BLE001 - raised in the hashing thread when it reaches the end
            self.error = e
        finally:
            self._filled.put(None)

    def _jobs(self) -> Iterator[_Job]:
        done, limit = 0, self._source.limit
        while not self._stop and (limit is None or done < limit):
            buffer = self._free.get()
            n = self._source.read_into(buffer, BUFFER if limit is None else min(BUFFER, limit - done), done)
            if n <= 0 or self._stop:
                self._free.put(buffer)
                return
            yield buffer, n, done
            done += n
