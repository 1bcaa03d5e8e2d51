"""The shape of each importable document, as far as import reads it: a wrong type is a located error, never a crash.

These are not the formats' full schemas (the tests check exports against those); they only make sure every value
import reads has the type it expects.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from dlhub_manifest.manifest.diagnostics import Diagnostic
from dlhub_manifest.manifest.load import Document
from dlhub_manifest.manifest.schema_fast import DIALECT, Check, Unsupported, compile_schema

_STR = {"type": "string"}
_STRS = {"type": "array", "items": _STR}
_OBJ = {"type": "object"}
_TEXT_OR_NUMBER = {"type": ["string", "number"]}


def _objects(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        item["required"] = required
    return {"type": "array", "items": item}


_ARGUMENT = {"type": "object", "required": ["type"], "properties": {"type": _STR}}
_METHOD = {"type": "object", "properties": {"input": _ARGUMENT, "output": _ARGUMENT, "parameters": _OBJ,
                                            "method_details": _OBJ, "description": _STR}}
_DATACITE = {"type": "object", "properties": {
    "titles": _objects({"title": _STR}), "creators": _objects({"familyName": _STR, "givenName": _STR, "name": _STR,
                                                               "affiliations": _STRS, "nameIdentifiers": {
                                                                   "type": "array", "items": _OBJ}}),
    "descriptions": _objects({"description": _STR}), "subjects": _objects({"subject": _STR}, ["subject"]),
    "relatedIdentifiers": _objects({"relatedIdentifier": _STR, "relationType": _STR},
                                   ["relatedIdentifier", "relationType"]),
    "fundingReferences": _objects({"funderName": _STR}, ["funderName"]), "rightsList": _objects({"rights": _STR}),
    "publicationYear": _TEXT_OR_NUMBER, "version": _STR}}
SHAPES: dict[str, dict[str, Any]] = {
    "dlhub_sdk": {"type": "object", "required": ["servable"], "properties": {
        "datacite": _DATACITE,
        "dlhub": {"type": "object", "properties": {"name": _STR, "domains": _STRS, "visible_to": _STRS,
                                                   "files": _OBJ, "dependencies": _OBJ}},
        "servable": {"type": "object", "required": ["shim"], "properties": {
            "shim": _STR, "options": _OBJ, "methods": {"type": "object", "additionalProperties": _METHOD}}}}},
    "cff": {"type": "object", "properties": {
        "title": _TEXT_OR_NUMBER, "abstract": _STR, "version": _TEXT_OR_NUMBER, "doi": _STR, "keywords": _STRS,
        "authors": _objects({"family-names": _STR, "given-names": _STR, "name": _STR, "orcid": _STR,
                             "affiliation": _STR}),
        "license": {"type": ["string", "array"], "items": _STR}, "date-released": _STR,
        "identifiers": _objects({"value": _STR, "description": _STR}, ["value"]),
        "repository-code": _STR, "commit": _STR, "url": _STR}},
    "zenodo": {"type": "object", "properties": {
        "title": _STR, "description": _STR, "version": _TEXT_OR_NUMBER, "doi": _STR, "keywords": _STRS,
        "publication_date": _STR, "license": {"type": ["string", "object"]},
        "creators": _objects({"name": _STR, "affiliation": {"type": ["string", "null"]}, "orcid": _STR}, ["name"]),
        "related_identifiers": _objects({"identifier": _STR, "relation": _STR, "scheme": _STR}, ["identifier"])}},
    "codemeta": {"type": "object", "properties": {
        "name": _STR, "description": _STR, "version": _TEXT_OR_NUMBER, "identifier": _STR,
        "datePublished": _STR, "codeRepository": _STR, "url": _STR,
        "keywords": {"type": ["string", "array"], "items": _STR},
        "applicationCategory": {"type": ["string", "array"], "items": _STR},
        "author": {"type": ["object", "array"], "items": {"type": "object", "properties": {
            "familyName": _STR, "givenName": _STR, "name": _STR}}},
        "license": {"type": ["string", "array"], "items": _STR}}},
    "datacite": {"anyOf": [_DATACITE, {"type": "object", "required": ["data"], "properties": {
        "data": {"type": "object", "required": ["attributes"], "properties": {"attributes": _DATACITE}}}}]},
}


@cache
def _fast(kind: str) -> Check | None:
    try:
        return compile_schema({"$schema": DIALECT, **SHAPES[kind]})
    except Unsupported:
        return None


@cache
def _validator(kind: str) -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(SHAPES[kind])


def shape_problems(doc: Document, kind: str) -> list[Diagnostic]:
    """Every value of `doc` that import reads and that has the wrong type, located.

    The compiled check answers for well-formed files, so `validate` cross-checks without importing jsonschema.
    """
    from dlhub_manifest.manifest.schema_errors import schema_diagnostics

    fast = _fast(kind)
    if fast is not None and fast(doc.data):
        return []
    return sorted(set(schema_diagnostics(doc, _validator(kind), SHAPES[kind])),
                  key=lambda d: (d.line or 0, d.column or 0, d.message))
