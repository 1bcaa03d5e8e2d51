"""A worker started by `serve` must not outlive it: it dies with its parent, even when the parent is SIGKILLed.

On Linux the kernel signals the child itself (`prctl(PR_SET_PDEATHSIG)`); everywhere, the worker also compares
`os.getppid()` with the pid that started it on every poll, since an orphan is re-parented. The local registry's
detached worker has no parent to follow: it is meant to outlive the command that started it.
"""

from __future__ import annotations

import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent() -> None:
    """Get SIGTERM from the kernel when the parent dies (Linux), and ignore the terminal's Ctrl-C: the parent
    gets it too and stops this worker itself, so the worker prints no KeyboardInterrupt of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        _set_parent_death_signal(signal.SIGTERM)
    # A parent that died before the kernel was told sends no signal: the worker's first poll sees it instead.


def orphaned(parent: int | None) -> bool:
    """Whether the process that started us (when one is followed) is gone: we were re-parented."""
    return parent is not None and os.getppid() != parent


def _set_parent_death_signal(signum: int) -> None:
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    # A failure only loses the fast path: `orphaned` still notices on the next poll.
    libc.prctl(PR_SET_PDEATHSIG, int(signum), 0, 0, 0)
