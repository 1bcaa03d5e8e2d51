"""`dlhub_sdk` servable documents (what `to_dict()` wrote, or what the DLHub service returned) -> a manifest draft.

The servable block is read back into `servable.type`/`options` per shim; every method is declared with the
inputs and outputs the document states, so a rebuild gives the same signatures even before inspection.
`dlhub.version` is the SDK's own version, never the servable's, so it is not imported.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from dlhub_manifest.citation.facts import facts_from_datacite
from dlhub_manifest.citation.shims import IDENTIFIER, SHIMS, Shim
from dlhub_manifest.citation.to_manifest import CHECK, FILL, Draft, manifest_fields

_PUBLIC = ["public"]


def unwrap(data: Any) -> Any:
    """The servable document inside a DLHub service answer (search `gmeta` entries, `content`, or a list of one)."""
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if isinstance(data, dict) and isinstance(data.get("gmeta"), list) and data["gmeta"]:
        data = data["gmeta"][0]
        if isinstance(data, dict) and isinstance(data.get("entries"), list) and data["entries"]:
            data = data["entries"][0]
    if isinstance(data, dict) and isinstance(data.get("content"), dict) and "servable" not in data:
        data = data["content"]
    return data


def is_document(data: Any) -> bool:
    """Whether `data` (unwrapped) looks like a DLHub servable document."""
    return isinstance(data, dict) and isinstance(data.get("servable"), dict) and "dlhub" in data


def draft_from_document(document: dict[str, Any], project: Path) -> Draft:
    """The manifest draft for a servable document; `project` is where the model files should be."""
    dlhub, servable = document.get("dlhub") or {}, document["servable"]
    datacite = document.get("datacite") or {}
    facts = facts_from_datacite(datacite)
    domains = tuple(dlhub.get("domains") or ())
    keywords = tuple(k for k in facts.keywords if k not in domains)
    found = document.get("provenance")
    provenance: dict[str, Any] = found if isinstance(found, dict) else {}
    facts = dataclasses.replace(facts, name=dlhub.get("name"), domains=domains, keywords=keywords,
                                repository=_text(provenance.get("repository")), commit=_text(provenance.get("commit")))
    draft = Draft()
    manifest_fields(facts, draft)
    if not facts.version:
        draft.header.append(FILL + "set `version:` (the document's dlhub.version "
                            f"{dlhub.get('version')!r} is the version of the tool that wrote it)")
    if dlhub.get("visible_to") and dlhub["visible_to"] != _PUBLIC:
        draft.data["visible_to"] = list(dlhub["visible_to"])
    _servable(servable, dlhub.get("files") or {}, draft)
    _files(dlhub.get("files") or {}, project, draft)
    pins = (dlhub.get("dependencies") or {}).get("python") or {}
    if pins:
        draft.data["dependencies"] = {"python": {str(k): str(v) for k, v in pins.items()}}
        draft.note(("dependencies",), CHECK + "pins copied from the document; the build warns when the model "
                   "was saved with another version")
    return draft


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _servable(servable: dict[str, Any], files: dict[str, Any], draft: Draft) -> None:
    shim = str(servable.get("shim", ""))
    methods = servable.get("methods") or {}
    reader = SHIMS.get(shim)
    if reader is None:
        raise ValueError(f"servable.shim {shim!r} is not one of the six dlhub_sdk servable types "
                         f"({', '.join(SHIMS)})")
    kind, options = reader(Shim(servable.get("options") or {}, methods, files, draft))
    declared = {name: _method(m) for name, m in methods.items() if isinstance(m, dict) and IDENTIFIER.match(name)}
    draft.data["servable"] = {"type": kind, "options": options, "methods": declared}
    if declared:
        draft.note(("servable", "methods"), CHECK + "declared from the document; delete a method's input/output "
                   "to let the build read them from the model")

def _method(method: dict[str, Any]) -> dict[str, Any]:
    return {key: method[key] for key in ("description", "input", "output", "parameters", "method_details")
            if method.get(key) not in (None, {}, "")}


def _files(files: dict[str, Any], project: Path, draft: Draft) -> None:
    """Other files become `files:`; every file the document names but the folder lacks gets a FILL IN note."""
    listed = files.get("other")
    other = [f for f in listed if isinstance(f, str) and f.strip()] if isinstance(listed, list) else []
    if isinstance(files.get("arch"), str) and files["arch"].strip():
        other.append(str(files["arch"]))
    if other:
        draft.data["files"] = other
    for i, rel in enumerate(other):
        if not (project / rel).exists():
            draft.note(("files", i), FILL + f"{rel} is not in {project}; copy it there")
    options = draft.data["servable"]["options"]
    for key in ("model", "object"):
        rel = options.get(key)
        if isinstance(rel, str) and not (project / rel).exists():
            draft.note(("servable", "options", key), FILL + f"{rel} is not in {project}; copy the model file there")
    function = options.get("function")
    if isinstance(function, str) and ":" in function:
        module = function.split(":", 1)[0].replace(".", "/") + ".py"
        if not (project / module).exists():
            draft.note(("servable", "options", "function"), FILL + f"{module} is not in {project}; copy it there")
