"""`publish --dry-run`: what a publication would do, computed without writing anything.

The version it would get, each file with its size and hash marked new or already stored, and how the
metadata differs from the latest published version of the same servable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dlhub_manifest.errors import NotFoundError
from dlhub_manifest.manifest.diagnostics import FieldPath, format_path
from dlhub_manifest.publish.files import Prepared
from dlhub_manifest.registry.contracts import ServableInfo
from dlhub_manifest.registry.document import content_digest, content_view
from dlhub_manifest.targets.base import Target
from dlhub_manifest.util.versions import choose_version, next_version


@dataclass(frozen=True)
class FilePlan:
    """One file of the plan; `new` when the target does not hold its bytes yet."""

    path: str
    size: int
    sha256: str
    new: bool


@dataclass(frozen=True)
class Change:
    """One metadata field that differs from the latest version (`old`/`new` None when absent)."""

    field: str
    old: Any
    new: Any


@dataclass
class Plan:
    """What `publish` would do; `outcome` is `publish`, `already published` or `conflict`."""

    servable: str
    version: str
    version_source: str
    outcome: str
    latest: str | None
    files: list[FilePlan] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    message: str = ""

    @property
    def new_bytes(self) -> int:
        return sum(f.size for f in self.files if f.new)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "new_bytes": self.new_bytes}


def make_plan(target: Target, prepared: Prepared) -> Plan:
    """Compare `prepared` with what the target holds; reads only (missing blobs, latest version, whoami)."""
    owner = str(target.whoami()["username"])
    latest = _get(target, owner, prepared.name, None)
    missing = target.missing_blobs({f.sha256 for f in prepared.files}) if prepared.files else set()
    files = [FilePlan(f.path, f.size, f.sha256, f.sha256 in missing) for f in prepared.files]
    digest = content_digest(prepared.document, [asdict(f) for f in prepared.files])
    published = _digests(target, owner, prepared, latest)
    version, collides = choose_version(published, prepared.version, digest)
    version_source = prepared.version_source
    if not prepared.version:
        version_source = ("latest version, unchanged" if collides else "next patch") if latest else "first version"
    plan = Plan(f"{owner}/{prepared.name}", version, version_source, "publish",
                latest["version"] if latest else None, files,
                diff_documents(latest["document"], prepared.document) if latest else [])
    if collides is None:
        plan.message = f"would publish {plan.servable}@{version}"
    elif published[collides] == digest:
        plan.outcome, plan.message = "already published", f"{plan.servable}@{version} is already published"
    else:
        plan.outcome = "conflict"
        plan.message = (f"{plan.servable}@{version} is already published with different content; a published "
                        f"version is immutable: set a new version (e.g. {next_version(published)})")
    return plan


def _digests(target: Target, owner: str, prepared: Prepared, latest: ServableInfo | None) -> dict[str, str]:
    """Published version → content digest, as far as the decision needs (the latest and the one asked for)."""
    if latest is None:
        return {}
    published = dict.fromkeys(latest["versions"], "")
    published[latest["version"]] = latest["content_digest"]
    asked = _get(target, owner, prepared.name, prepared.version) if prepared.version else None
    if asked is not None:
        published[asked["version"]] = asked["content_digest"]
    return published


def _get(target: Target, owner: str, name: str, version: str | None) -> ServableInfo | None:
    try:
        return target.get_servable(owner, name, version)
    except NotFoundError:
        return None


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Field-by-field differences of the content (registry-filled fields and provenance left out).

    A list or mapping that was empty on one side and has entries on the other shows as its new or removed
    entries only, not also as the empty container removed or added.
    """
    before, after = dict(_flatten(content_view(old), ())), dict(_flatten(content_view(new), ()))
    keys = sorted(before.keys() | after.keys(), key=lambda p: [str(x) for x in p])
    parents = {k[:i] for k in keys for i in range(1, len(k))}
    return [Change(format_path(k), before.get(k), after.get(k)) for k in keys
            if before.get(k) != after.get(k) and not (k in parents and _empty(before.get(k), after.get(k)))]


def _empty(*values: Any) -> bool:
    """Every value is absent or an empty list or mapping."""
    return all(v is None or v == [] or v == {} for v in values)


def _flatten(value: Any, path: FieldPath) -> list[tuple[FieldPath, Any]]:
    if isinstance(value, dict) and value:
        return [item for k in value for item in _flatten(value[k], (*path, k))]
    if isinstance(value, list) and value and all(isinstance(v, (dict, list)) for v in value):
        return [item for i, v in enumerate(value) for item in _flatten(v, (*path, i))]
    return [(path, value)]
