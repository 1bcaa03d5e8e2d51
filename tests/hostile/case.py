"""A hostile case (project files, filesystem tricks, the expected outcome), hand-written ones read from disk."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as default
from pathlib import Path
from typing import Any

import yaml

CASES_DIR = Path(__file__).with_name("cases")
EXPECT = "expect.yaml"

# Filesystem tricks applied after the files are written: ("symlink", path, target), ("fifo", path),
# ("mkdir", path), ("chmod", path, mode), ("remove", path).
Action = tuple[Any, ...]


@dataclass(frozen=True)
class Case:
    """One manifest (and project) that must be refused: exit code, message, and where it points."""

    name: str
    manifest: bytes | None
    message: str
    line: int | None = None
    field: str | None = None
    exit_code: int = 1
    files: Mapping[str, bytes] = default(default_factory=dict)
    setup: tuple[Action, ...] = ()
    args: tuple[str, ...] = ("validate", "dlhub.yaml")
    file: str | None = "dlhub.yaml"  # the file the output must name; None for usage errors
    unprivileged: bool = False  # needs a reader that file permissions apply to (root reads anything)

    def __str__(self) -> str:
        return self.name


def materialise(case: Case, project: Path) -> Path:
    """Write the case's project into `project` (created) and apply its filesystem tricks."""
    project.mkdir(parents=True, exist_ok=True)
    files = dict(case.files)
    if case.manifest is not None:
        files["dlhub.yaml"] = case.manifest
    for rel, content in files.items():
        target = project / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    for action in case.setup:
        _apply(project, action)
    return project


def _apply(project: Path, action: Action) -> None:
    verb, rel, *rest = action
    path = project / rel
    if verb in ("symlink", "fifo", "mkdir", "remove"):
        _remove(path)
        path.parent.mkdir(parents=True, exist_ok=True)
    if verb == "symlink":
        path.symlink_to(rest[0])
    elif verb == "fifo":
        os.mkfifo(path)
    elif verb == "mkdir":
        path.mkdir()
    elif verb == "chmod":
        path.chmod(int(rest[0]))
    elif verb != "remove":
        raise ValueError(f"unknown setup action {verb!r}")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """(mode, size, mtime_ns) of every entry under `root`, without following links or opening anything."""
    out: dict[str, tuple[int, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            out[os.path.relpath(full, root)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


def handwritten(cases_dir: Path = CASES_DIR) -> Iterator[Case]:
    """Every `cases/NNN-name/` folder: its files are the project, `expect.yaml` the expected outcome."""
    for folder in sorted(p for p in cases_dir.iterdir() if p.is_dir()):
        expect = yaml.safe_load((folder / EXPECT).read_text(encoding="utf-8"))
        files = {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
                 if p.is_file() and p.name != EXPECT}
        yield Case(
            name=f"hand-{folder.name}",
            manifest=None,
            files=files,
            message=expect["message"],
            line=expect.get("line"),
            field=expect.get("field"),
            exit_code=expect.get("exit", 1),
            setup=tuple(tuple(a) for a in expect.get("setup", [])),
            args=tuple(expect.get("args", ["validate", "dlhub.yaml"])),
            file=expect.get("file", "dlhub.yaml"),
            unprivileged=expect.get("unprivileged", False),
        )
