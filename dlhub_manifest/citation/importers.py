"""Import: a dlhub_sdk servable document or a citation file (CFF, Zenodo, CodeMeta, DataCite JSON) -> dlhub.yaml.

The result always validates against the manifest schema; a value the source lacks is written as a placeholder
with a FILL IN comment, so `validate` (with file checks) still points at whatever must be completed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlhub_manifest.citation.dlhub_sdk import draft_from_document, unwrap
from dlhub_manifest.citation.readers import READERS
from dlhub_manifest.citation.shapes import shape_problems
from dlhub_manifest.citation.sources import Source, read_source
from dlhub_manifest.citation.to_manifest import CHECK, FILL, Draft, manifest_fields
from dlhub_manifest.citation.yaml_out import render_draft
from dlhub_manifest.errors import InternalError, InvalidManifestError
from dlhub_manifest.manifest.diagnostics import Diagnostic
from dlhub_manifest.manifest.load import Document, load_text
from dlhub_manifest.manifest.validate import validate_document

REQUIRED_OPTIONS = {"model", "n_input_columns", "function", "object", "method", "input_shape", "output_shape"}
PLACEHOLDER_SERVABLE = {"type": "static_method", "options": {"function": "app:run"}}


@dataclass(frozen=True)
class Imported:
    """The manifest text, the kind of document it came from, and how many values need the user's attention."""

    text: str
    kind: str
    attention: int


def import_file(path: str | Path, project: str | Path, kind: str | None = None) -> Imported:
    """Read `path` and write the manifest text for a project in `project`; raises InvalidManifestError on bad input."""
    source, problems = read_source(Path(path), kind)
    if source is None:
        raise InvalidManifestError(problems)
    doc = _document_of(source)
    problems = shape_problems(doc, source.kind)
    if problems:
        raise InvalidManifestError(problems)
    draft = _draft(doc, source.kind, Path(project))
    _repair(draft)
    text = render_draft(draft, Path(path).name)
    _self_check(text)
    notes = sum(len(n) for n in draft.notes.values()) + len(draft.header)
    return Imported(text, source.kind, notes)


def _document_of(source: Source) -> Document:
    """The document to read, re-rooted inside a DLHub service answer so positions still point into the file."""
    if source.kind != "dlhub_sdk":
        return source.doc
    inner = unwrap(source.doc.data)
    prefix = _prefix_of(source.doc.data, inner)
    positions = {path[len(prefix):]: pos for path, pos in source.doc.positions.items() if path[:len(prefix)] == prefix}
    return Document(source.doc.file, inner, positions or source.doc.positions)


def _prefix_of(data: Any, inner: Any) -> tuple[str | int, ...]:
    for prefix in ((), (0,), ("content",), ("gmeta", 0, "entries", 0, "content"), (0, "content")):
        node = data
        try:
            for part in prefix:
                node = node[part]
        except (KeyError, IndexError, TypeError):
            continue
        if node is inner:
            return prefix
    return ()


def _draft(doc: Document, kind: str, project: Path) -> Draft:
    if kind == "dlhub_sdk":
        try:
            return draft_from_document(doc.data, project)
        except ValueError as e:
            raise InvalidManifestError([doc.diagnostic(("servable", "shim"), str(e))]) from e
    if not isinstance(doc.data, dict):
        raise InvalidManifestError([doc.diagnostic((), f"a {kind} document is a mapping of fields, not a list")])
    draft = Draft()
    manifest_fields(READERS[kind](doc.data), draft)
    draft.data["servable"] = dict(PLACEHOLDER_SERVABLE)
    draft.note(("servable",), FILL + "how the model is served (type and options); see `dlhub-manifest new`")
    return draft


def _repair(draft: Draft) -> None:
    """Leave out what the manifest schema refuses (a method argument of a type it does not know, say), with a note."""
    required = {"manifest_version", "name", "title", "creators", "servable"}
    for diag in validate_document(Document("dlhub.yaml", draft.data), check_files=False):
        path = diag.path
        if diag.severity != "error" or not path:
            continue
        if path[:2] in (("servable", "methods"), ("servable", "options")) and len(path) > 2 \
                and not (path[1] == "options" and path[2] in REQUIRED_OPTIONS):
            dropped = draft.data["servable"].get(path[1], {}).pop(path[2], None)
            where = f"servable.{path[1]}.{path[2]}"
        elif path[0] not in required:
            dropped = draft.data.pop(str(path[0]), None)
            where = str(path[0])
        else:
            continue
        if dropped is not None:
            draft.header.append(CHECK + f"{where} was left out: {diag.message}")


def _self_check(text: str) -> None:
    """The written manifest must load and pass the schema (file checks are for the user, after the FILL INs)."""
    doc, problems = load_text(text, "dlhub.yaml")
    errors: list[Diagnostic] = problems if doc is None else [
        d for d in validate_document(doc, check_files=False) if d.severity == "error"]
    if errors:
        raise InternalError("dlhub-manifest import wrote a manifest that does not validate: "
                            + "; ".join(e.format_text() for e in errors[:3]) + ". Please report this with the "
                            "imported file")
