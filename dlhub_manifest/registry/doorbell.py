"""How a client tells an idle worker that a task was queued, so the worker wakes at once instead of polling.

The doorbell is a named pipe in the registry folder. A waiting worker holds it open and sleeps in `select`
until a byte arrives or its timeout runs out (it then asks the database anyway, so a lost ring costs at most
that timeout). Ringing writes one byte without blocking, and does nothing when no worker is listening.
"""

from __future__ import annotations

import contextlib
import os
import select
import stat
from pathlib import Path
from types import TracebackType

NAME = "doorbell.fifo"


class Doorbell:
    """The listening end; `wait(timeout)` is True when the bell rang. Without a pipe it is a plain sleep."""

    def __init__(self, root: Path) -> None:
        self._fd: int | None = None
        with contextlib.suppress(OSError, AttributeError):  # no mkfifo (Windows) or a foreign file: just sleep
            with contextlib.suppress(FileExistsError):
                os.mkfifo(root / NAME, 0o600)
            # Read-write: opening never blocks, and the pipe never reports end-of-file between clients.
            fd = os.open(root / NAME, os.O_RDWR | os.O_NONBLOCK | os.O_NOFOLLOW)
            if stat.S_ISFIFO(os.fstat(fd).st_mode):
                self._fd = fd
            else:
                os.close(fd)

    def __enter__(self) -> Doorbell:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def wait(self, timeout: float) -> bool:
        """Sleep until the bell rings or `timeout` seconds pass; True when it rang (the rings are consumed)."""
        if self._fd is None:
            select.select([], [], [], timeout)
            return False
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return False
        with contextlib.suppress(BlockingIOError):
            while os.read(self._fd, 4096):
                pass
        return True


def ring(root: Path) -> None:
    """Wake the worker waiting on `root`'s doorbell, if any; never blocks, never fails."""
    try:
        fd = os.open(root / NAME, os.O_WRONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return  # no pipe yet, or nobody listening (ENXIO): the next worker asks the database first
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, b"\0")
    except OSError:
        pass  # a full pipe (EAGAIN) has rings enough
    finally:
        os.close(fd)
