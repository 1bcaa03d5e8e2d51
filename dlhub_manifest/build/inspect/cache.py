"""Remembered inspection results, so publishing an unchanged model again does not load it again.

An entry is found by the probe, its arguments, the project folder, dlhub-manifest's version and the Python
that runs the probe (executable, version, PYTHON* variables), and it is used only while everything the probe
read is unchanged: each project file it opened by sha256 (the model, the modules it imported; files it
looked for and did not find must still be missing), each project folder it listed by its names, and each
installed file (framework, dlhub-manifest itself) and searched folder by its stat fingerprint. Entries whose
inputs changed during or just before the probe are not kept. Any problem with an entry makes it a miss.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import stat
import sys
import time
from pathlib import Path
from typing import Any

FORMAT = 2  # 2: results carry the project modules the probe imported
MAX_ENTRIES = 200  # one per project and probe; the oldest are dropped beyond this
_STDLIB = os.path.join(os.path.dirname(os.__file__), "")  # sysconfig would cost ~10 ms of start-up


def entry_path(name: str, args: dict[str, Any], project: Path, env: dict[str, str]) -> Path:
    """Where the entry for this probe run lives in the user's cache folder."""
    from dlhub_manifest import __version__
    from dlhub_manifest.util.locations import cache_dir

    key = {"format": FORMAT, "probe": name, "args": args, "project": str(project.resolve()),
           "tool": __version__, "python": [os.path.realpath(sys.executable), sys.version],
           "env": sorted((k, v) for k, v in env.items() if k.startswith("PYTHON"))}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode("utf-8")).hexdigest()
    return cache_dir() / "inspections" / f"{digest}.json"


def lookup(path: Path, project: Path) -> dict[str, Any] | None:
    """The remembered result if the entry exists, is well formed and nothing it depends on has changed."""
    try:
        entry = json.loads(path.read_bytes())
        if entry["format"] != FORMAT or not isinstance(entry["result"], dict):
            return None
        with _Fingerprints(project) as prints:
            if not prints.unchanged(entry["reads"]):
                return None
        os.utime(path)  # recently used: kept when old entries are dropped
        result: dict[str, Any] = entry["result"]
        return result
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # missing, unreadable or corrupt: run the probe


def remember(path: Path, project: Path, result: dict[str, Any], reads: dict[str, list[str]],
             started_ns: int) -> None:
    """Keep `result` with the state of what the probe read, unless some of it changed since `started_ns`."""
    from dlhub_manifest.package.hashcache import RACY_NS
    from dlhub_manifest.util.fsutil import atomic_write_bytes

    with _Fingerprints(project) as prints:
        state = prints.state(reads, started_ns - RACY_NS)
    if state is None:
        return
    with contextlib.suppress(OSError, ValueError, TypeError):
        data = json.dumps({"format": FORMAT, "result": result, "reads": state})
        atomic_write_bytes(path, data.encode("utf-8"))
        _prune(path.parent)


class _Fingerprints:
    """What must stay the same for a result to hold: a project file's sha256, a project folder's names,
    stat data for anything else. None stands for "not there": what was missing must stay missing."""

    def __init__(self, project: Path) -> None:
        self.roots = (project.resolve(), project.absolute())
        self._hashes: Any = None

    def __enter__(self) -> _Fingerprints:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._hashes is not None:
            self._hashes.close()

    def state(self, reads: dict[str, list[str]], settled_ns: int) -> dict[str, dict[str, str | None]] | None:
        """The fingerprint of everything read (the stdlib left out); None when something changed too recently."""
        state: dict[str, dict[str, str | None]] = {"files": {}, "dirs": {}, "installed": {}}
        for kind in ("files", "dirs"):
            for name in reads[kind]:
                if _in_stdlib(name):
                    continue  # it changes only with the Python version, which is in the key
                if _ctime_ns(name) > settled_ns:
                    return None  # changed around the time it was read: the result may not match the content
                inside = self._relative(name)
                where, key = ("installed", name) if inside is None else (kind, inside)
                state[where][key] = self.of(where, key)
        return state

    def unchanged(self, state: dict[str, dict[str, str | None]]) -> bool:
        """Whether every recorded fingerprint still holds."""
        return all(self.of(where, key) == value for where, entries in state.items() for key, value in entries.items())

    def of(self, where: str, key: str) -> str | None:
        from dlhub_manifest.package.hashcache import fingerprint

        try:
            if where == "files":
                return self._sha256(self.roots[0] / key)
            if where == "dirs":
                return hashlib.sha256("\0".join(sorted(os.listdir(self.roots[0] / key))).encode()).hexdigest()
            return fingerprint(os.stat(key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            return f"error {e.errno}"

    def _sha256(self, path: Path) -> str:
        """Through the hash cache, so a large unchanged model is not read again."""
        from dlhub_manifest.package.hashcache import HashCache
        from dlhub_manifest.package.select import hash_file
        from dlhub_manifest.util.locations import cache_dir

        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            return f"mode {st.st_mode:o}"
        if self._hashes is None:
            self._hashes = HashCache(cache_dir() / "hashes.sqlite3")
        known: str | None = self._hashes.lookup(path, st)
        if known is None:
            started = time.time_ns()
            known = hash_file(path)[0]
            self._hashes.remember(path, st, known, started)
        return known

    def _relative(self, name: str) -> str | None:
        """`name` relative to the project (posix), or None when it lies outside."""
        for root in self.roots:
            with contextlib.suppress(ValueError):
                return Path(name).relative_to(root).as_posix()
        return None


def _in_stdlib(name: str) -> bool:
    return name.startswith(_STDLIB) and not name.startswith(_site_dirs())


@functools.cache
def _site_dirs() -> tuple[str, ...]:
    """Installed packages live below the stdlib folder too (lib/python3.X/site-packages)."""
    import site

    return tuple(os.path.join(d, "") for d in [*site.getsitepackages(), site.getusersitepackages()])


def _ctime_ns(name: str) -> int:
    try:
        return os.stat(name).st_ctime_ns
    except OSError:
        return 0


def _prune(folder: Path) -> None:
    """Drop the least recently used entries beyond MAX_ENTRIES."""
    entries = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[MAX_ENTRIES:]:
        with contextlib.suppress(OSError):
            old.unlink()
