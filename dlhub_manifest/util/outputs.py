"""Where a command's `-o` writes: `-` for stdout, else a regular file (or a project folder) written atomically.

Checked before any work, so a bad `-o` fails at once rather than after the model was inspected and the files
hashed. A device, FIFO, socket or symbolic link in the target's place is refused: an atomic write would replace
it with a regular file (a symlink's target would stay as it was, a device node would be gone). Missing folders
are created for `build` and `package`, as the atomic writer always did (`export` and `import` ask for an existing
one); a folder that cannot be written or created is refused by trying
it, because `os.access` answers yes to root even on a read-only mount.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from dlhub_manifest.errors import DLHubManifestError, UsageError

STDOUT = "-"
_KINDS = {stat.S_ISLNK: "a symbolic link", stat.S_ISFIFO: "a FIFO", stat.S_ISCHR: "a character device",
          stat.S_ISBLK: "a block device", stat.S_ISSOCK: "a socket"}


def is_stdout(path: str | Path | None) -> bool:
    """True when the output is `-`, the usual spelling of standard output."""
    return path is not None and str(path) == STDOUT


def check_output_file(path: str | Path, *, create_folders: bool = True) -> None:
    """Raise UsageError unless `path` is stdout or a place where a regular file can be written and replaced;
    without `create_folders`, its folder must exist already."""
    if is_stdout(path):
        return
    target = Path(path)
    if not create_folders and not target.absolute().parent.is_dir():
        raise UsageError(f"the folder of {target} does not exist; create it first")
    kind = _special_kind(target)
    if kind is not None:
        raise UsageError(f"{target} is {kind}; refusing to replace it with a regular file: write to another path, "
                         "or use `-o -` for standard output")
    if target.is_dir():
        raise UsageError(f"{target} is a folder; give a file name inside it, e.g. -o {target / 'out'}")
    _check_folder(target)


def check_output_folder(path: str | Path) -> None:
    """Raise UsageError unless `path` can be created (or used) as a folder: not stdout, a special file or a link."""
    if is_stdout(path):
        raise UsageError("a project is a folder and cannot be written to standard output; give a folder with -o")
    target = Path(path)
    kind = _special_kind(target)
    if kind is not None:
        raise UsageError(f"{target} is {kind}; choose a real folder with -o")
    if target.exists() and not target.is_dir():
        raise UsageError(f"{target} exists and is not a folder; choose another folder with -o")
    _check_folder(target)


@contextlib.contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn an OS error while writing `path` (a full disk, a folder removed meanwhile) into a clear error."""
    try:
        yield
    except OSError as e:
        raise DLHubManifestError(f"cannot write {path}: {e.strerror or e}") from e


def _special_kind(path: Path) -> str | None:
    """What `path` is when it is a link or a special file; None when it is absent, a file or a folder."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        return None
    return next((name for test, name in _KINDS.items() if test(mode)), None)


def _check_folder(target: Path) -> None:
    """The nearest existing folder above `target` must be a folder we can create files in (tried, not guessed)."""
    folder = target.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise UsageError(f"cannot write {target}: {folder} is not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".dlhub-manifest-", suffix=".probe", dir=folder)
    except OSError as e:
        raise UsageError(f"cannot write {target}: the folder {folder} is not writable ({e.strerror}); "
                         "choose another path with -o") from e
    os.close(fd)
    os.unlink(probe)
