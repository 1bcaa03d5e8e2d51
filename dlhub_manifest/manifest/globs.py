"""Manifest `files` globs, matched segment by segment with the same meaning as Python's `glob`.

`*`, `?` and `[...]` stay inside one path segment and never match a leading dot (like `glob`, so the
validator's "matches no file" agrees with what is selected); a whole `**` segment spans any number of
non-hidden directories. A pattern that matches a directory selects everything under it, unless it
ends with `**`, which already says how deep to go.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from functools import lru_cache

_MAGIC = frozenset("*?[")


def has_magic(pattern: str) -> bool:
    """Whether `pattern` holds a wildcard; a pattern without one names a path outright."""
    return bool(_MAGIC.intersection(pattern))


def _segment_matches(pattern: str, name: str) -> bool:
    if not has_magic(pattern):
        return pattern == name
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, pattern)


@lru_cache(maxsize=65536)
def _match(pattern: tuple[str, ...], path: tuple[str, ...], partial: bool) -> bool:
    """Whether `pattern` matches `path` (or, when `partial`, could match something under it)."""
    if not path:
        return partial or all(seg == "**" for seg in pattern)
    if not pattern:
        return partial  # a pattern matched a parent directory, so everything under it is selected
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return _match(rest, path, partial) or (not path[0].startswith(".") and _match(pattern, path[1:], partial))
    return _segment_matches(head, path[0]) and _match(rest, path[1:], partial)


def _split(text: str) -> tuple[str, ...]:
    return tuple(seg for seg in text.split("/") if seg and seg != ".")


class GlobSet:
    """A set of project-relative globs; paths are posix strings relative to the project."""

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(_split(p) for p in patterns)

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, rel: str) -> bool:
        """True when a pattern matches `rel` itself or one of its parent directories."""
        parts = _split(rel)
        return any(_match(p, parts[:i], False) for p in self.patterns for i in self._lengths(p, len(parts)))

    @staticmethod
    def _lengths(pattern: tuple[str, ...], depth: int) -> range:
        # A trailing `**` already spells out the recursion (and glob's hidden-name rule): only full matches count.
        return range(depth, depth + 1) if pattern[-1:] == ("**",) else range(1, depth + 1)

    def may_match_under(self, dir_rel: str) -> bool:
        """True when something inside directory `dir_rel` could match (used to prune the walk)."""
        parts = _split(dir_rel)
        return any(_match(p, parts, True) for p in self.patterns)
