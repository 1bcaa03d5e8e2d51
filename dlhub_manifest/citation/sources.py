"""Reading a file to import: size and type limits, JSON or YAML with positions, which kind of file it is.

Problems are `Diagnostic`s located by line and column, as `validate` reports them; the same hostile-input limits
as for manifests apply (1 MiB, nesting depth, value count, safe YAML only).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlhub_manifest.manifest.diagnostics import Diagnostic, FieldPath
from dlhub_manifest.manifest.load import Document, ReadHints, load_bytes, load_text, read_limited

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")  # and lone surrogates

KINDS = ("dlhub_sdk", "cff", "zenodo", "codemeta", "datacite")
_NAMES = {"citation.cff": "cff", ".zenodo.json": "zenodo", "codemeta.json": "codemeta", "dlhub.json": "dlhub_sdk"}
_HINTS = ReadHints(what="a dlhub.json, CITATION.cff, .zenodo.json or codemeta.json file", noun="a file to import",
                   plural="files to import", missing="check the path of the file to import",
                   too_big="a citation or servable document is a few kilobytes; is this the right file?")


@dataclass
class Source:
    """A parsed file: its data with positions (a `Document`) and its kind."""

    doc: Document
    kind: str


def read_source(path: Path, kind: str | None = None) -> tuple[Source | None, list[Diagnostic]]:
    """Read and parse `path`; `kind` forces the kind instead of guessing it from the name and content."""
    name = str(path)
    raw, problems = read_limited(path, name, _HINTS)
    if raw is None:
        return None, problems
    is_yaml = path.suffix.lower() in (".cff", ".yaml", ".yml") or kind == "cff"
    doc, problems = load_bytes(raw, name) if is_yaml else _load_json(raw, name)
    if doc is None:
        return None, problems
    if not isinstance(doc.data, (dict, list)):
        return None, [Diagnostic(name, 1, 1, (), "the file holds a single value, not a document",
                                 "import a dlhub.json, CITATION.cff, .zenodo.json or codemeta.json")]
    found = kind or guess_kind(path, doc.data)
    if found is None:
        return None, [Diagnostic(name, 1, 1, (), "cannot tell what kind of document this is",
                                 f"pass --from with one of: {', '.join(KINDS)}")]
    return Source(doc, found), []


def _load_json(raw: bytes, name: str) -> tuple[Document | None, list[Diagnostic]]:
    """JSON with JSON's own error positions; positions of values come from the YAML loader when it reads the text."""
    try:
        text = raw.decode("utf-8-sig")
        data = json.loads(text)
    except UnicodeDecodeError as e:
        return None, [Diagnostic(name, None, None, (), f"not valid UTF-8 (byte 0x{raw[e.start]:02x})",
                                 "save the file as UTF-8")]
    except json.JSONDecodeError as e:
        return None, [Diagnostic(name, e.lineno, e.colno, (), f"JSON syntax error: {e.msg}",
                                 "check the file is JSON (a missing comma or quote is the usual cause)")]
    except RecursionError:
        return None, [Diagnostic(name, None, None, (), "nesting is too deep", "flatten the structure")]
    except ValueError as e:  # an integer of thousands of digits
        return None, [Diagnostic(name, None, None, (), f"cannot read a value: {e}", "no field takes such a value")]
    located, problems = load_text(text, name)  # the manifest loader's limits apply to JSON too
    if located is None and problems and _is_limit(problems[0]):
        return None, problems
    doc = Document(name, data, located.positions if located else {})
    bad = _control_characters(doc)
    return (None, [bad]) if bad else (doc, [])


def _control_characters(doc: Document) -> Diagnostic | None:
    """A string holding a control character (JSON's `\u001b` escapes), which the YAML reader could not see."""
    stack: list[tuple[FieldPath, Any]] = [((), doc.data)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend(((*path, str(k)), v) for k, v in value.items())
            stack.extend(((*path, str(k)), k) for k in value)
        elif isinstance(value, list):
            stack.extend(((*path, i), v) for i, v in enumerate(value))
        elif isinstance(value, str) and CONTROL.search(value):
            char = CONTROL.search(value).group(0)  # type: ignore[union-attr]
            return doc.diagnostic(path, f"string holds control character U+{ord(char):04X}",
                                  "metadata is plain text: no terminal codes or binary data")
    return None


def _is_limit(diag: Diagnostic) -> bool:
    return any(word in diag.message for word in ("more than", "deeper than", "too deep", "too large",
                                                 "control character"))


def guess_kind(path: Path, data: Any) -> str | None:
    """The kind of a document from its file name, else from the fields it has."""
    by_name = _NAMES.get(path.name.lower())
    if by_name:
        return by_name
    from dlhub_manifest.citation.dlhub_sdk import is_document, unwrap

    if is_document(unwrap(data)):
        return "dlhub_sdk"
    if not isinstance(data, dict):
        return None
    if "cff-version" in data:
        return "cff"
    if "codemeta" in str(data.get("@context", "")) or data.get("@type") == "SoftwareSourceCode":
        return "codemeta"
    if "upload_type" in data or ("creators" in data and "titles" not in data and "title" in data):
        return "zenodo"
    if "titles" in data or isinstance(data.get("data"), dict):
        return "datacite"
    return None
