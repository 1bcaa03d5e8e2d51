"""Manifest -> DLHub servable document: validate, inspect, then assemble the three blocks and provenance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from dlhub_manifest import __version__
from dlhub_manifest.build.capture import captured_modules, undeclared_imports
from dlhub_manifest.build.check import check_document
from dlhub_manifest.build.datacite import datacite_block
from dlhub_manifest.build.dlhub_block import clean_path, dependencies, dlhub_block, other_files, pin_warnings
from dlhub_manifest.build.inspect import INSPECTORS, InspectContext, Inspection
from dlhub_manifest.build.inspect.runner import DEFAULT_TIMEOUT
from dlhub_manifest.build.requirements import requirement_pins
from dlhub_manifest.build.servable import incomplete, merge_methods, servable_block
from dlhub_manifest.errors import InternalError, InvalidManifestError
from dlhub_manifest.manifest.diagnostics import Diagnostic, Report
from dlhub_manifest.manifest.load import Document, load_file
from dlhub_manifest.manifest.validate import validate_document
from dlhub_manifest.registry.contracts import Provenance
from dlhub_manifest.util.versions import FIRST_VERSION, parse_version

# Without a version from the manifest or the caller, the document says what a first publication is given, so
# `build` and `publish` agree; later publications get the next patch, which only the registry knows.
DEFAULT_VERSION = FIRST_VERSION


@dataclass(frozen=True)
class BuildOptions:
    """How to build: load the model or not, the version and provenance to record, files never to list."""

    inspect: bool = True
    version: str | None = None
    provenance: Provenance | None = None
    timeout: float = DEFAULT_TIMEOUT
    leave_out: Sequence[str] = field(default_factory=tuple)
    cache: bool = False  # reuse inspection results remembered for unchanged inputs

    def __post_init__(self) -> None:
        # A caller's version lands in the document as is: refuse a non-semver one as a usage error (exit 2)
        # here, rather than let it fail the document's own schema check as if it were a builder bug.
        if self.version is not None:
            object.__setattr__(self, "version", str(parse_version(self.version)))


def build_report(path: str | Path, options: BuildOptions = BuildOptions()) -> tuple[dict[str, Any] | None, Report]:
    """Build the document for a manifest file (or directory); the report holds every problem and warning."""
    doc, problems = load_file(path)
    report = Report(doc.file if doc else str(path), list(problems))
    if doc is None:
        return None, report
    document, diagnostics = assemble(doc, options)
    report.diagnostics.extend(diagnostics)
    return (document if report.ok else None), report


def assemble(doc: Document, options: BuildOptions) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """Validate, then build; returns the document (None when there are errors) and all diagnostics.

    Raises InternalError when the document fails our own schema: that is a builder bug, not a user mistake.
    """
    diagnostics = validate_document(doc)
    if any(d.severity == "error" for d in diagnostics):
        return None, diagnostics
    data = doc.data
    servable = data["servable"]
    kind = INSPECTORS[servable["type"]]
    ctx = InspectContext(doc, dict(servable.get("options") or {}), dict(servable.get("methods") or {}),
                         options.inspect, options.timeout, options.cache)
    inspection = kind.inspect(ctx)
    diagnostics += inspection.diagnostics + pin_warnings(doc, inspection)
    methods = merge_methods(inspection.methods, ctx.declared)
    if not any(d.severity == "error" for d in inspection.diagnostics):
        diagnostics += incomplete(doc, methods, options.inspect)
    files, file_problems = _files(doc, inspection, options.leave_out)
    required, requirement_problems = requirement_pins(doc)
    python = dependencies(data, inspection, required)
    diagnostics += file_problems + requirement_problems + undeclared_imports(doc, inspection.modules, python)
    version = str(data.get("version") or options.version or DEFAULT_VERSION)
    document = {
        "datacite": datacite_block(data, version),
        "dlhub": dlhub_block(data, version, files, python),
        "servable": servable_block(kind, inspection, methods),
        "provenance": provenance(options.provenance),
    }
    if any(d.severity == "error" for d in diagnostics):
        return None, diagnostics
    _self_check(document)
    return document, diagnostics


def _self_check(document: dict[str, Any]) -> None:
    """Stop on a document our own schema refuses, so such a bug cannot hide until the registry refuses it."""
    problems = check_document(document)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise InternalError("dlhub-manifest built a servable document that its own schema refuses: "
                            + "; ".join(problems[:3]) + more + ". This is a bug in dlhub-manifest, not a mistake in "
                            "your dlhub.yaml: please report it together with the manifest")


def _files(doc: Document, inspection: Inspection, leave_out: Sequence[str]) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Files by role, `other` holding the selected files plus the project modules loading the model imported."""
    roles: dict[str, Any] = {role: clean_path(rel) for role, rel in inspection.files.items()}
    other, problems = other_files(doc, roles, list(leave_out))
    shipped = {*other, *roles.values(), Path(doc.file).name}
    added, capture_problems = captured_modules(doc, inspection.modules, shipped)
    problems += capture_problems
    other = sorted({*other, *added})
    if other:
        roles["other"] = other
    return roles, problems


def provenance(extra: Provenance | None) -> Provenance:
    """Which tool built the document, plus the caller's repository/commit/ref; empty values are dropped."""
    block: dict[str, Any] = {"tool": f"dlhub-manifest {__version__}"}
    block.update({k: v for k, v in (extra or {}).items() if v not in (None, "")})
    return cast(Provenance, block)


def build_document(doc: Document, *, inspect: bool = True, version: str | None = None,
                   provenance: Provenance | None = None, timeout: float = DEFAULT_TIMEOUT,
                   leave_out: Sequence[str] = (), cache: bool = False) -> dict[str, Any]:
    """The DLHub servable document for a loaded manifest; raises InvalidManifestError with every problem.

    `cache`: reuse the model inspection remembered for unchanged inputs (see `build/inspect/cache.py`).
    """
    options = BuildOptions(inspect, version, provenance, timeout, tuple(leave_out), cache)
    document, diagnostics = assemble(doc, options)
    if document is None:
        raise InvalidManifestError(_sorted(diagnostics))
    return document


def build(path: str | Path, *, inspect: bool = True, version: str | None = None,
          provenance: Provenance | None = None, timeout: float = DEFAULT_TIMEOUT,
          leave_out: Sequence[str] = ()) -> dict[str, Any]:
    """Validate and build the manifest at `path` (a dlhub.yaml or its directory); raises InvalidManifestError."""
    options = BuildOptions(inspect, version, provenance, timeout, tuple(leave_out))
    document, report = build_report(path, options)
    if document is None:
        raise InvalidManifestError(report.sorted())
    return document


def _sorted(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=lambda d: (d.line or 0, d.column or 0, d.field, d.message))
