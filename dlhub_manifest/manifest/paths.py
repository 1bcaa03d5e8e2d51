"""Keep every path a manifest names inside its project: no `..`, no absolute paths, no symlinks out."""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath
from typing import Literal

from dlhub_manifest.errors import InputError

Kind = Literal["file", "dir", "any"]


class PathProblem(InputError):
    """A manifest path that is unsafe or unusable; the message says which and why."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def check_relative(rel: str) -> PurePosixPath:
    """Reject absolute paths, `..` segments and backslashes; return the normalised relative path."""
    if not rel or not rel.strip():
        raise PathProblem("path is empty")
    if rel.startswith(("/", "~")) or (len(rel) > 1 and rel[1] == ":") or rel.startswith("\\"):
        raise PathProblem(f"{rel!r} is an absolute path", "paths are relative to the folder holding dlhub.yaml")
    if "\\" in rel:
        raise PathProblem(f"{rel!r} contains a backslash", "use forward slashes: a/b.txt")
    if "\0" in rel:
        raise PathProblem("path contains a NUL byte")
    pure = PurePosixPath(rel)
    if ".." in pure.parts:
        raise PathProblem(f"{rel!r} leaves the project through '..'", "keep files inside the project folder")
    return pure


def resolve_inside(project: Path, rel: str, kind: Kind = "file") -> Path:
    """Resolve `rel` under `project`, refusing anything that ends outside it or is not a `kind`."""
    pure = check_relative(rel)
    root = project.resolve()
    target = root.joinpath(*pure.parts)
    real = Path(os.path.realpath(target))
    if real != root and root not in real.parents:
        raise PathProblem(f"{rel!r} is a symlink that points outside the project ({real})",
                          "copy the file into the project instead of linking to it")
    try:
        st = real.stat()
    except FileNotFoundError:
        raise PathProblem(f"{rel!r} does not exist in the project",
                          "check the spelling, or create the file") from None
    except OSError as e:
        raise PathProblem(f"{rel!r} cannot be read: {e.strerror}") from None
    if kind == "file" and not stat.S_ISREG(st.st_mode):
        what = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise PathProblem(f"{rel!r} is {what}; a file is expected")
    if kind == "dir" and not stat.S_ISDIR(st.st_mode):
        raise PathProblem(f"{rel!r} is not a directory")
    if kind == "any" and not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        raise PathProblem(f"{rel!r} is not a regular file or directory")
    if not os.access(real, os.R_OK):
        raise PathProblem(f"{rel!r} is not readable", "check its permissions")
    return real
