"""Which project files a servable ships, and their streamed sha256: the input of package and publish.

Selection = the manifest's `files` globs (minus excludes and `.gitignore`d paths, never `.git`) plus the
files the servable cannot run without (the manifest, the model or object, the static_method module, the
requirements file), which are kept even when ignored: model weights are often git-ignored.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlhub_manifest.errors import DLHubManifestError
from dlhub_manifest.manifest.globs import GlobSet, has_magic
from dlhub_manifest.manifest.load import MANIFEST_NAMES
from dlhub_manifest.manifest.paths import Kind, PathProblem, resolve_inside
from dlhub_manifest.package.ignore import IgnoreRules
from dlhub_manifest.registry.contracts import FileRecord

Progress = Callable[[int, int], None]
CHUNK = 1 << 20
SKIP_NAMES = frozenset({".git"})
REQUIRED_OPTIONS = ("model", "object")  # servable.options keys naming a file or directory the servable needs


class FileSelectionError(DLHubManifestError):
    """Some selected paths cannot be shipped; lists every problem so they can all be fixed in one go."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("cannot ship the servable's files:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class FileEntry:
    """One shipped file: posix path relative to the project, size, sha256 and mode (0o644 or 0o755)."""

    path: str
    size: int
    sha256: str
    mode: int

    def record(self) -> FileRecord:
        """This file as a publication request lists it."""
        return {"path": self.path, "sha256": self.sha256, "size": self.size, "mode": self.mode}


@dataclass
class _Walk:
    """What one walk of the project needs: the root, the globs, the ignore rules, and the problems found."""

    root: Path
    include: GlobSet
    exclude: GlobSet = field(default_factory=lambda: GlobSet(()))
    rules: IgnoreRules | None = None
    problems: list[str] = field(default_factory=list)


def glob_matches(project: Path, pattern: str, exclude: GlobSet | None = None) -> tuple[int, list[str]]:
    """How many files `pattern` selects in `project` (minus `exclude`), and the problems met on the way.

    The same loop-safe walk as `select_files`, so the validator's "matches no file" agrees with what ships.
    """
    walk = _Walk(project, GlobSet([pattern]), exclude or GlobSet(()))
    count = sum(1 for _ in _walk_tree(walk, ""))
    return count, sorted(set(walk.problems))


def select_files(project: Path, data: dict[str, Any], *, manifest_name: str | None = None,
                 leave_out: Iterable[str] = ()) -> list[str]:
    """Sorted, unique project-relative posix paths to ship for manifest `data` in `project`.

    `leave_out` globs are never selected by `files` (the CLI passes the zip it is writing inside the project).
    """
    root = project.resolve()
    include, exclude = _patterns(data.get("files"))
    literal = [p for p in include if not has_magic(p)]
    walk = _Walk(root, GlobSet([p for p in include if has_magic(p)]), GlobSet([*exclude, *leave_out]),
                 IgnoreRules(root))
    selected = set(_required(walk, data, manifest_name))
    for rel in literal:  # named outright, so kept even when git-ignored (excludes still apply)
        selected.update(_one(walk, rel, "any", "files", walk.exclude))
    if walk.include:
        selected.update(_walk_tree(walk, ""))
    if walk.problems:
        raise FileSelectionError(sorted(set(walk.problems)))
    return sorted(selected)


def excluded(data: dict[str, Any], rel: str) -> bool:
    """Whether the manifest's `files.exclude` globs exclude the project-relative path `rel`."""
    return GlobSet(_patterns(data.get("files"))[1]).matches(rel)


def _patterns(files: Any) -> tuple[list[str], list[str]]:
    """(include, exclude) globs from the manifest's `files` (a list, or a mapping of include/exclude)."""
    if isinstance(files, list):
        return [str(p) for p in files], []
    if isinstance(files, dict):
        # No `include` means everything not excluded: an exclude list alone would be pointless otherwise.
        return [str(p) for p in files.get("include", ["**"])], [str(p) for p in files.get("exclude", [])]
    return [], []


def _required(walk: _Walk, data: dict[str, Any], manifest_name: str | None) -> Iterator[str]:
    """The manifest and the paths the servable cannot run without; ignore rules and excludes do not apply."""
    yield from _one(walk, manifest_name or _manifest_name(walk.root), "file", "the manifest")
    servable = _mapping(data.get("servable"))
    options = _mapping(servable.get("options"))
    for key in REQUIRED_OPTIONS:
        if isinstance(options.get(key), str):
            yield from _one(walk, options[key], "any", f"servable.options.{key}")
    function = options.get("function")
    if servable.get("type") == "static_method" and isinstance(function, str) and ":" in function:
        yield from _module(walk, function.split(":", 1)[0])
    deps = data.get("dependencies")
    if isinstance(deps, dict) and isinstance(deps.get("requirements"), str):
        yield from _one(walk, deps["requirements"], "file", "dependencies.requirements")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _manifest_name(root: Path) -> str:
    return next((n for n in MANIFEST_NAMES if (root / n).is_file()), MANIFEST_NAMES[0])


def _one(walk: _Walk, rel: str, kind: Kind, what: str, exclude: GlobSet | None = None) -> Iterator[str]:
    """`rel` itself, or every file under it when it is a directory (a TF SavedModel, a Keras folder)."""
    clean = "/".join(p for p in rel.split("/") if p not in ("", "."))
    if SKIP_NAMES.intersection(clean.split("/")) or (exclude is not None and exclude.matches(clean)):
        return
    try:
        real = resolve_inside(walk.root, rel, kind)
    except PathProblem as e:
        walk.problems.append(_describe(e, what))
        return
    if real.is_dir():
        sub = _Walk(walk.root, GlobSet([clean]), exclude or GlobSet(()), problems=walk.problems)
        yield from _walk_tree(sub, clean)
    else:
        yield clean


def _module(walk: _Walk, module: str) -> Iterator[str]:
    """The file of a static_method's `pkg.mod` module: `pkg/mod.py` or `pkg/mod/__init__.py`."""
    stem = module.replace(".", "/")
    for rel in (f"{stem}.py", f"{stem}/__init__.py"):
        try:
            resolve_inside(walk.root, rel, "file")
        except PathProblem:
            continue
        yield rel
        return
    walk.problems.append(f"servable.options.function: module {module!r} is not in the project "
                         f"(looked for {stem}.py and {stem}/__init__.py)")


def _describe(e: PathProblem, what: str | None = None) -> str:
    text = f"{what}: {e.message}" if what else e.message
    return f"{text} (hint: {e.hint})" if e.hint else text


def _walk_tree(walk: _Walk, start: str) -> Iterator[str]:
    """Files under `start` selected by the walk's globs, pruning ignored, excluded and unmatched directories."""
    stack: list[tuple[str, frozenset[str]]] = [(start, frozenset({os.path.realpath(walk.root / start)}))]
    while stack:
        dir_rel, seen = stack.pop()
        for name, is_dir in _entries(walk, dir_rel):
            rel = f"{dir_rel}/{name}" if dir_rel else name
            if name in SKIP_NAMES or walk.exclude.matches(rel) or (walk.rules and walk.rules.ignored(rel, is_dir)):
                continue
            if not is_dir:
                if walk.include.matches(rel):
                    yield from _checked(walk, rel)
            elif walk.include.may_match_under(rel):
                real = _inside_dir(walk, rel)
                if real is not None and real not in seen:  # a symlink back to an ancestor would loop forever
                    stack.append((rel, seen | {real}))


def _entries(walk: _Walk, dir_rel: str) -> list[tuple[str, bool]]:
    """(name, is directory) of a directory's entries, following symlinks; an unreadable one is a problem."""
    try:
        with os.scandir(walk.root / dir_rel) as it:
            return sorted((e.name, _is_dir(e)) for e in it)
    except OSError as e:
        walk.problems.append(f"{dir_rel or '.'}/ cannot be listed: {e.strerror} (hint: check its permissions)")
        return []


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:
        return False  # a dangling or looping link: treated as a file, so resolve_inside names the problem


def _inside_dir(walk: _Walk, rel: str) -> str | None:
    """The real path of directory `rel`, or None (and a problem) when it is a symlink leading outside."""
    try:
        return str(resolve_inside(walk.root, rel, "dir"))
    except PathProblem as e:
        walk.problems.append(_describe(e))
        return None


def _checked(walk: _Walk, rel: str) -> Iterator[str]:
    try:
        resolve_inside(walk.root, rel, "file")
    except PathProblem as e:
        walk.problems.append(_describe(e))
        return
    yield rel


def hash_file(path: str | Path, chunk_size: int = CHUNK, *, progress: Callable[[int], object] | None = None,
              sink: Callable[[memoryview], object] | None = None) -> tuple[str, int]:
    """(sha256 hex, size) of a regular file, read in `chunk_size` pieces into one buffer: constant memory.

    `progress(n)` is called after each chunk; `sink(chunk)` receives each chunk (to copy while hashing).
    """
    digest = hashlib.sha256()
    buffer = bytearray(chunk_size)
    view = memoryview(buffer)
    size = 0
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buffer):
            chunk = view[:n]
            digest.update(chunk)
            if sink is not None:
                sink(chunk)
            size += n
            if progress is not None:
                progress(n)
    return digest.hexdigest(), size


def scan(project: Path, rels: Iterable[str], progress: Progress | None = None) -> list[FileEntry]:
    """Hash every selected file (streaming); `progress(bytes_done, bytes_total)` drives progress bars."""
    root = project.resolve()
    targets, problems = _resolve_all(root, rels)
    total = sum(os.stat(p).st_size for _, p in targets)
    done = 0

    def tick(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    entries = []
    for rel, path in targets:
        try:
            digest, size = hash_file(path, progress=tick)
            entries.append(FileEntry(rel, size, digest, file_mode(path)))
        except OSError as e:
            problems.append(f"{rel!r} cannot be read: {e.strerror} (hint: check its permissions)")
    if problems:
        raise FileSelectionError(problems)
    return entries


def _resolve_all(root: Path, rels: Iterable[str]) -> tuple[list[tuple[str, Path]], list[str]]:
    targets: list[tuple[str, Path]] = []
    problems: list[str] = []
    for rel in rels:
        try:
            targets.append((rel, resolve_inside(root, rel, "file")))
        except PathProblem as e:
            problems.append(_describe(e))
    return targets, problems


def file_mode(path: str | Path) -> int:
    """0o755 when any execute bit is set, else 0o644: the only modes a servable archive records."""
    return 0o755 if os.stat(path).st_mode & 0o111 else 0o644
