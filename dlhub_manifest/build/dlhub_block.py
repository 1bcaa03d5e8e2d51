"""The `dlhub` block: name, version, visibility, files by role and Python dependencies."""

from __future__ import annotations

from typing import Any

from dlhub_manifest.build.inspect import Inspection
from dlhub_manifest.manifest.diagnostics import Diagnostic
from dlhub_manifest.manifest.load import Document
from dlhub_manifest.package.select import FileSelectionError, select_files

DEFAULT_OUTPUT = "dlhub.json"


def dlhub_block(data: dict[str, Any], version: str, files: dict[str, Any], python: dict[str, str]) -> dict[str, Any]:
    """DLHub's own metadata for a validated manifest: `files` by role, `python` pins."""
    return {
        "name": data["name"],
        "version": version,
        "type": "servable",
        "domains": list(data.get("domains", [])),
        "visible_to": list(data.get("visible_to", ["public"])),
        "files": files,
        "dependencies": {"python": python},
    }


def clean_path(rel: str) -> str:
    """`./a//b` -> `a/b`: the form file selection reports, so roles and selections compare equal."""
    return "/".join(p for p in rel.split("/") if p not in ("", "."))


def dependencies(data: dict[str, Any], inspection: Inspection,
                 required: dict[str, str] | None = None) -> dict[str, str]:
    """Pins found by inspection, overridden by the requirements file's (`required`), overridden by what
    `dependencies.python` declares (the author knows best)."""
    declared = (data.get("dependencies") or {}).get("python") or {}
    merged = dict(inspection.dependencies)
    merged.update(required or {})
    merged.update({str(k): str(v) for k, v in declared.items()})
    return dict(sorted(merged.items()))


def pin_warnings(doc: Document, inspection: Inspection) -> list[Diagnostic]:
    """Warn when a declared pin differs from the version the model was saved with."""
    declared = (doc.data.get("dependencies") or {}).get("python") or {}
    out = []
    for name, found in sorted(inspection.dependencies.items()):
        if name in declared and str(declared[name]) != found:
            diag = doc.diagnostic(("dependencies", "python", name),
                                  f"{name} is pinned to {declared[name]} but the model was saved with {found}",
                                  f"loading may fail or differ; pin {name}: \"{found}\" unless you checked it")
            out.append(Diagnostic(diag.file, diag.line, diag.column, diag.path, diag.message, diag.hint, "warning"))
    return out


def other_files(doc: Document, roles: dict[str, str], leave_out: list[str]) -> tuple[list[str], list[Diagnostic]]:
    """Files shipped besides the role files (and the manifest), from the manifest's `files` selection."""
    try:
        selected = select_files(doc.project_dir, doc.data, leave_out=[DEFAULT_OUTPUT, *leave_out])
    except FileSelectionError as e:
        return [], [doc.diagnostic(("files",), problem) for problem in e.problems]
    role_paths = set(roles.values())
    manifest = {"dlhub.yaml", "dlhub.yml"}
    keep = [f for f in selected if f not in manifest and f not in role_paths
            and not any(f.startswith(p.rstrip("/") + "/") for p in role_paths)]
    return keep, []
