"""(In the inspection subprocess) note every file a probe opens and every folder it lists, so the parent can
tell later whether anything the result depends on has changed (see `cache`).

Python raises an audit event for each `open` (imports included) and each directory listing (the import
system lists every folder it searches); module files are added at the end for extensions and for sources
whose cached bytecode was read instead.
"""

from __future__ import annotations

import os
import sys
from typing import Any


class ReadRecorder:
    """Collects absolute paths from audit events; `install()` once, `report()` after the probe ran."""

    def __init__(self) -> None:
        self.files: set[str] = set()
        self.dirs: set[str] = set()

    def install(self) -> None:
        """Start recording (audit hooks cannot be removed: only ever in the throw-away subprocess)."""
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            self._add(self.files, args[0])
        elif event in ("os.listdir", "os.scandir"):
            self._add(self.dirs, args[0] if args else None)

    @staticmethod
    def _add(into: set[str], path: Any) -> None:
        if isinstance(path, (str, bytes, os.PathLike)):
            into.add(os.path.abspath(os.fsdecode(path)))

    def report(self) -> dict[str, list[str]]:
        """What was read: files (opened, or loaded as modules) and listed folders, sorted."""
        for module in list(sys.modules.values()):
            self._add(self.files, getattr(module, "__file__", None))
        return {"files": sorted(self.files), "dirs": sorted(self.dirs)}
