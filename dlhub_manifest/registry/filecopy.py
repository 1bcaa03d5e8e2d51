"""Copy a regular file into a blob's temp file inside the kernel while the calling thread hashes the copy.

A copier thread moves the bytes with `os.copy_file_range` (no trip through Python, the GIL released), and
the caller hashes the temp file as it grows (hashlib also releases the GIL), so the two run on two cores.
The digest is taken from the copy itself, never from the source: if the source changes meanwhile, the blob
is still named by exactly the bytes it holds. Each hashed stretch is handed to the disk at once, so the
final fsync has little left to wait for.
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from collections.abc import Callable

from .writer import start_writeback

STEP = 32 << 20  # the copier hands over this much at a time; also the writeback stretch
HASH_CHUNK = 4 << 20
THREADED_BYTES = 8 << 20  # smaller files are copied, then hashed, in the calling thread
# copy_file_range refuses some file pairs (other filesystems on old kernels, special files): copy in user space.
_NO_KERNEL_COPY = frozenset({errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EPERM})
Progress = Callable[[int], object]


class _Copier(threading.Thread):
    """Copies `src` (from `offset`) to `dst` (from 0), at most `limit` bytes, publishing how far it got."""

    def __init__(self, src: int, dst: int, offset: int, limit: int | None) -> None:
        super().__init__(name="blob-copier", daemon=True)
        self._src, self._dst, self._offset, self._limit = src, dst, offset, limit
        self._kernel = True
        self._cond = threading.Condition()
        self.copied = 0
        self.done = False
        self.stop = False
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop and (n := self._copy_once(self._next_size())) > 0:
                with self._cond:
                    self.copied += n
                    self._cond.notify_all()
        except BaseException as e:  # noqa: BLE001 - handed to the hashing thread, which re-raises it
            self.error = e
        finally:
            with self._cond:
                self.done = True
                self._cond.notify_all()

    def ready_beyond(self, pos: int) -> int:
        """Wait until more than `pos` bytes are copied (or the copy is over); returns how many are copied."""
        with self._cond:
            while self.copied <= pos and not self.done:
                self._cond.wait()
            return self.copied

    def _next_size(self) -> int:
        return STEP if self._limit is None else min(STEP, self._limit - self.copied)

    def _copy_once(self, size: int) -> int:
        if size <= 0:
            return 0
        if self._kernel:
            try:
                return os.copy_file_range(self._src, self._dst, size, self._offset + self.copied, self.copied)
            except OSError as e:
                if e.errno not in _NO_KERNEL_COPY or self.copied:
                    raise
                self._kernel = False
        data = os.pread(self._src, min(size, HASH_CHUNK), self._offset + self.copied)
        view = memoryview(data)
        while view:
            view = view[os.pwrite(self._dst, view, self.copied + len(data) - len(view)):]
        return len(data)


def copy_hashing_file(src: int, dst: int, *, offset: int = 0, limit: int | None = None,
                      progress: Progress | None = None) -> tuple[str, int]:
    """Copy regular file `src` (from `offset`, at most `limit` bytes) into the empty file `dst` (opened for
    reading and writing); returns (sha256 of what `dst` now holds, its size)."""
    copier = _Copier(src, dst, offset, limit)
    threaded = os.fstat(src).st_size - offset >= THREADED_BYTES
    if threaded:
        copier.start()
    else:
        copier.run()  # a small file: copy it all first, here; a thread would cost more than it saves
    digest = hashlib.sha256()
    buffer = bytearray(HASH_CHUNK)
    view = memoryview(buffer)
    hashed = handed = 0
    try:
        while (ready := copier.ready_beyond(hashed)) > hashed:
            while hashed < ready:
                n = os.preadv(dst, [view[:min(HASH_CHUNK, ready - hashed)]], hashed)
                if n <= 0:
                    raise OSError(errno.EIO, "a blob's temp file shrank while it was being written")
                digest.update(view[:n])
                hashed += n
                if progress is not None:
                    progress(n)
            if hashed - handed >= STEP:
                start_writeback(dst, handed, hashed - handed)
                handed = hashed
    finally:
        copier.stop = True
        if threaded:
            copier.join()
    if copier.error is not None:
        raise copier.error
    return digest.hexdigest(), hashed
