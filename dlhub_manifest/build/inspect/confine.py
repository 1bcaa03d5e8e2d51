"""Keep the inspection child (which runs a model's code) from outliving its timeout or reading our secrets.

- Escapees: the child runs in its own session and its group is killed, but code that double-forks and calls
  `setsid` leaves that group. On Linux this process becomes a child subreaper (`PR_SET_CHILD_SUBREAPER`), so
  such orphans are re-parented to us instead of init; after the probe, every child of ours that appeared
  during it (and all its descendants) is killed and reaped.
- Secrets: the child's environment is cleaned, but it could read ours through `/proc/<our pid>/environ`.
  We become non-dumpable (`PR_SET_DUMPABLE 0`: our /proc files turn root-owned, so a child running as the same
  non-root user cannot read them, nor ptrace us), and we overwrite secret values in the environment block the
  kernel shows there (Python keeps its own copy in `os.environ`, and the C environment gets a fresh copy), which
  also holds against a child running as root. A root child can still read our memory: build untrusted models
  as an unprivileged user.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import sys
from collections.abc import Iterable

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|API_?KEY|PRIVATE_KEY", re.IGNORECASE)
_prepared = False


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def prepare_parent() -> None:
    """Once per process, before the first child: subreaper, non-dumpable, secrets scrubbed from /proc."""
    global _prepared
    if _prepared or not sys.platform.startswith("linux"):
        return
    _prepared = True
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_DUMPABLE, 0)
    scrub_environ_block()


def scrub_environ_block() -> int:
    """Zero the values of secret-named variables in this process's initial environment block; returns how many.

    The block is what `/proc/<pid>/environ` shows; each variable first gets a fresh C copy (`putenv`), so
    libraries and children that read the C environment still see it.
    """
    try:
        with open("/proc/self/stat", "rb") as fh:
            fields = fh.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[-3]), int(fields[-2])  # env_start, env_end (fields 50 and 51)
        block = ctypes.string_at(start, end - start)
    except (OSError, ValueError, IndexError):
        return 0
    scrubbed, offset = 0, 0
    for entry in block.split(b"\0"):
        name, eq, value = entry.partition(b"=")
        text = name.decode("utf-8", "replace")
        if eq and value and SECRET_NAME.search(text):
            with contextlib.suppress(OSError, ValueError):
                os.putenv(text, os.environ.get(text, value.decode("utf-8", "surrogateescape")))
            ctypes.memset(start + offset + len(name) + 1, 0, len(value))
            scrubbed += 1
        offset += len(entry) + 1
    return scrubbed


def children() -> set[int]:
    """Pids whose parent is this process."""
    me, found = os.getpid(), set()
    for pid, ppid in _parents():
        if ppid == me:
            found.add(pid)
    return found


def _parents() -> Iterable[tuple[int, int]]:
    try:
        names = os.listdir("/proc")
    except OSError:
        return
    for name in names:
        if name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError), open(f"/proc/{name}/stat", "rb") as fh:
                yield int(name), int(fh.read().rsplit(b")", 1)[1].split()[1])


def kill_escapees(before: set[int]) -> int:
    """Kill (and reap) every child of ours not in `before`, with all its descendants; returns how many."""
    killed = 0
    for _ in range(5):  # a process may fork while we look: look again until nothing is left
        roots = children() - before
        if not roots:
            break
        tree = _descendants(roots)
        for pid in tree:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        for pid in roots:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        killed += len(tree)
    return killed


def _descendants(roots: set[int]) -> set[int]:
    links = list(_parents())
    found, frontier = set(roots), set(roots)
    while frontier:
        frontier = {pid for pid, ppid in links if ppid in frontier and pid not in found}
        found |= frontier
    return found
