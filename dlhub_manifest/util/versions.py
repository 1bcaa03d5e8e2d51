"""Semantic versions (semver 2.0.0): parse, order by precedence, and pick the next patch version."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dlhub_manifest.errors import UsageError

FIRST_VERSION = "0.1.0"
MAX_LENGTH = 128  # characters; the manifest schema says the same (a longer "version" is an attack, not a release)
_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


@dataclass(frozen=True)
class Version:
    """A parsed semantic version; instances sort by semver precedence (build metadata is ignored)."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: str = field(default="", compare=False)

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        return text + (f"+{self.build}" if self.build else "")

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int, str], ...]]:
        # A release sorts after its prereleases; numeric identifiers sort before alphanumeric ones.
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __lt__(self, other: Version) -> bool:
        return self._key() < other._key()

    def __le__(self, other: Version) -> bool:
        return self._key() <= other._key()

    def next_patch(self) -> Version:
        """The next patch release: 1.2.3 → 1.2.4, and a prerelease 1.3.0-rc.1 → its release 1.3.0."""
        if self.prerelease:
            return Version(self.major, self.minor, self.patch)
        return Version(self.major, self.minor, self.patch + 1)


def parse_version(text: str) -> Version:
    """Parse `1.2.3[-pre][+build]`; anything else is a usage error that shows the expected form."""
    if isinstance(text, str) and len(text.strip()) > MAX_LENGTH:
        raise UsageError(f"{text[:20]!r}... is not a version: it is longer than {MAX_LENGTH} characters")
    match = _SEMVER.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise UsageError(f"{text!r} is not a semantic version; use MAJOR.MINOR.PATCH such as 1.2.0")
    major, minor, patch, pre, build = match.groups()
    return Version(int(major), int(minor), int(patch), tuple(pre.split(".")) if pre else (), build or "")


def latest(versions: Iterable[str]) -> str | None:
    """The highest of `versions` by semver precedence (None when there are none)."""
    items = list(versions)
    return max(items, key=lambda v: parse_version(v)._key()) if items else None


def next_version(existing: Iterable[str]) -> str:
    """The version to assign when none is given: the next patch after the highest, else 0.1.0."""
    top = latest(existing)
    return str(parse_version(top).next_patch()) if top else FIRST_VERSION


def choose_version(published: Mapping[str, str], asked: str | None, digest: str) -> tuple[str, str | None]:
    """The version a publication gets, and the published version it collides with (None when it is new).

    `published` maps each published version to its content digest. An asked-for version is used as is
    (matching an existing one by precedence); without one, unchanged content is the latest version again,
    and changed content gets the next patch version.
    """
    if asked is not None:
        wanted = parse_version(asked)
        same = next((v for v in published if parse_version(v) == wanted), None)
        return (same or asked), same
    top = latest(published)
    if top is not None and published[top] == digest:
        return top, top
    return next_version(published), None
