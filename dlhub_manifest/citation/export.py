"""Export a servable's citation: read the facts of a project (PATH) or a published version (REF), then render them.

A PATH that exists is a project; anything else is read as OWNER/NAME[@VERSION] in the chosen registry.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlhub_manifest.citation.facts import Facts, facts_from_manifest, facts_from_published
from dlhub_manifest.citation.formats import FORMATS, render
from dlhub_manifest.errors import InvalidManifestError, UsageError
from dlhub_manifest.manifest.checks import doi_problem
from dlhub_manifest.manifest.validate import validate_path
from dlhub_manifest.util.versions import parse_version


@dataclass(frozen=True)
class ExportRequest:
    """What to export and how: the source, the format, overrides, and the registry for a REF."""

    source: str = "."
    fmt: str = "cff"
    version: str | None = None
    doi: str | None = None
    registry: str | Path | None = None
    target: str | None = None


@dataclass(frozen=True)
class Exported:
    """The rendered citation and what the format could not hold."""

    text: str
    lost: list[str]


def export(request: ExportRequest) -> Exported:
    """Render the citation the request asks for; raises InvalidManifestError or UsageError on bad input."""
    if request.fmt not in FORMATS:
        raise UsageError(f"unknown format {request.fmt!r}; choose one of {', '.join(FORMATS)}")
    facts = with_overrides(read_facts(request), request)
    text, lost = render(facts, request.fmt)
    return Exported(text, lost)


def read_facts(request: ExportRequest) -> Facts:
    """The facts of the project at `source`, or of the published version it names."""
    path = Path(request.source)
    if path.exists() or request.source in (".", "") or request.source.endswith((".yaml", ".yml")):
        return project_facts(path)
    return published_facts(request)


def project_facts(path: Path) -> Facts:
    """The facts of a project's manifest; the manifest must validate (files are not checked)."""
    doc, report = validate_path(path, check_files=False)
    if doc is None or not report.ok:
        raise InvalidManifestError(report.sorted())
    return facts_from_manifest(doc.data)


def published_facts(request: ExportRequest) -> Facts:
    """The facts of a published version: its document plus version, publication date and provenance."""
    from dlhub_manifest.targets import resolve_target
    from dlhub_manifest.util.servable_ref import split_servable_ref

    ref = split_servable_ref(request.source)
    target = resolve_target(registry=request.registry, target=request.target)
    owner = ref.owner or str(target.whoami()["username"])
    found = target.get_servable(owner, ref.name, ref.version)
    base = str(getattr(target, "url", "") or "")
    url = f"{base.rstrip('/')}/servables/{found['servable']}/versions/{found['version']}" if base else None
    return facts_from_published(found, url)


def with_overrides(facts: Facts, request: ExportRequest) -> Facts:
    """`--version` and `--doi` replace what the source says (checked first: a release tag, a reserved DOI)."""
    changes: dict[str, Any] = {}
    if request.version:
        changes["version"] = str(parse_version(request.version))
    if request.doi:
        problem = doi_problem(request.doi)
        if problem:
            raise UsageError(f"--doi: {problem[0]} ({problem[1]})")
        changes["doi"] = request.doi
    return dataclasses.replace(facts, **changes) if changes else facts
