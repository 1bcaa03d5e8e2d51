"""How a servable (version) is named on the command line and in the API: `OWNER/NAME`, `NAME` (your own),
`OWNER/NAME@VERSION` or `NAME@VERSION`.

The owner is a registry namespace: a login name, or a Globus username such as `alice@globusid.org`, so an
`@` before the `/` belongs to the owner and only the one after the name starts a version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlhub_manifest.errors import UsageError
from dlhub_manifest.util.versions import parse_version

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")  # the manifest schema's `name`
FORMS = "OWNER/NAME, NAME (your own), OWNER/NAME@VERSION or NAME@VERSION"


@dataclass(frozen=True)
class ServableRef:
    """A parsed reference; `owner` None means the caller's own namespace, `version` None the latest."""

    owner: str | None
    name: str
    version: str | None


def split_servable_ref(text: str) -> ServableRef:
    """Parse `text` without knowing who is asking; a clear UsageError (exit 2) names what is wrong."""
    owner, slash, rest = text.strip().rpartition("/")
    name, at, version = rest.partition("@")
    problem = _owner_problem(owner, bool(slash)) or _name_problem(name) or _version_problem(version, bool(at))
    if problem:
        raise UsageError(f"{text!r} is not a servable reference: {problem}; write {FORMS} "
                         "(for example alice/iris-classifier@1.0.0)")
    return ServableRef(owner or None, name, str(parse_version(version)) if at else None)


def parse_servable_ref(text: str, default_owner: str) -> tuple[str, str, str | None]:
    """`owner/name@version` → (owner, name, version); the owner defaults to the caller's namespace."""
    ref = split_servable_ref(text)
    return ref.owner or default_owner, ref.name, ref.version


def _owner_problem(owner: str, has_slash: bool) -> str | None:
    if not has_slash:
        return None
    if not owner:
        return "the owner before '/' is missing"
    if "/" in owner:
        return "it has more than one '/'"
    if not owner.isprintable() or any(c.isspace() for c in owner):
        return f"the owner {owner!r} contains spaces or control characters"
    return None


def _name_problem(name: str) -> str | None:
    if not name:
        return "the name is missing"
    if not NAME.match(name):
        return (f"{name!r} is not a servable name (lower-case letters, digits, '.', '_' and '-', "
                "starting with a letter or digit)")
    return None


def _version_problem(version: str, has_at: bool) -> str | None:
    if not has_at:
        return None
    if not version:
        return "the version after '@' is missing"
    try:
        parse_version(version)
    except UsageError:
        return f"{version!r} is not a version (MAJOR.MINOR.PATCH such as 1.0.0)"
    return None
