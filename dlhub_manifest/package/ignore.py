"""`.gitignore` rules of a project tree (root and nested files), with git's precedence.

A deeper `.gitignore` wins over a shallower one, the last matching line wins inside a file, and a
directory that is ignored is never entered, so nothing inside it can be re-included (as in git).
"""

from __future__ import annotations

from pathlib import Path

import pathspec

GITIGNORE = ".gitignore"


class IgnoreRules:
    """The `.gitignore` files met while walking a tree, keyed by the directory holding them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._specs: dict[str, pathspec.GitIgnoreSpec | None] = {}

    def _spec(self, dir_rel: str) -> pathspec.GitIgnoreSpec | None:
        if dir_rel not in self._specs:
            self._specs[dir_rel] = _load(self.root / dir_rel / GITIGNORE)
        return self._specs[dir_rel]

    def ignored(self, rel: str, is_dir: bool) -> bool:
        """Whether the project-relative posix path `rel` is ignored by the `.gitignore` files above it."""
        parts = rel.split("/")
        target = rel + "/" if is_dir else rel
        # Deepest .gitignore first: the first file that has an opinion decides.
        for depth in range(len(parts) - 1, -1, -1):
            spec = self._spec("/".join(parts[:depth]))
            if spec is None:
                continue
            local = target.split("/", depth)[-1] if depth else target
            verdict = spec.check_file(local).include
            if verdict is not None:
                return verdict
        return False


def _load(path: Path) -> pathspec.GitIgnoreSpec | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None  # no .gitignore here (or unreadable: git itself would skip it too)
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
