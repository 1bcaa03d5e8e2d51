"""What changed between two versions of a servable: document fields (by path) and files (by content).

Compared on the content view (registry-filled fields and provenance left out), the same view that decides
whether a publication is new content, so the diff shows what the authors changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from dlhub_manifest.registry.contracts import ServableInfo
from dlhub_manifest.registry.document import content_view
from dlhub_manifest.util.humanize import human_size

MAX_VALUE = 300  # characters of a changed value shown; long descriptions are cut


@dataclass
class Diff:
    """Changed fields as (path, old, new) with "" for absent, and files added, removed or changed."""

    fields: list[tuple[str, str, str]] = field(default_factory=list)
    added: list[tuple[str, str]] = field(default_factory=list)
    removed: list[tuple[str, str]] = field(default_factory=list)
    changed: list[tuple[str, str, str]] = field(default_factory=list)
    unchanged_files: int = 0

    @property
    def empty(self) -> bool:
        return not (self.fields or self.added or self.removed or self.changed)


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """`{"a": {"b": [1]}}` → `{"a.b[0]": "1"}`: leaves as JSON text by path."""
    if isinstance(value, dict) and value:
        out: dict[str, str] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: json.dumps(value, ensure_ascii=False, sort_keys=True)}


def _cut(text: str) -> str:
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "…"


def version_diff(old: ServableInfo, new: ServableInfo) -> Diff:
    """The difference from `old` to `new` (each `RegistryService.get_servable`'s answer)."""
    diff = Diff()
    a, b = flatten(content_view(old["document"])), flatten(content_view(new["document"]))
    diff.fields = [(p, _cut(a.get(p, "")), _cut(b.get(p, ""))) for p in sorted(a.keys() | b.keys())
                   if a.get(p) != b.get(p)]
    fa = {f["path"]: f for f in old["files"]}
    fb = {f["path"]: f for f in new["files"]}
    diff.added = [(p, human_size(fb[p]["size"])) for p in sorted(fb.keys() - fa.keys())]
    diff.removed = [(p, human_size(fa[p]["size"])) for p in sorted(fa.keys() - fb.keys())]
    both = sorted(fa.keys() & fb.keys())
    diff.changed = [(p, human_size(fa[p]["size"]), human_size(fb[p]["size"])) for p in both
                    if fa[p]["sha256"] != fb[p]["sha256"]]
    diff.unchanged_files = len(both) - len(diff.changed)
    return diff
