"""Check a servable document against our own schema (no DLHub reference schemas needed)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from dlhub_manifest.manifest.schema_fast import Check, Unsupported, compile_schema
from dlhub_manifest.util.resources import data_dir

SCHEMA_NAME = "dlhub-servable-document.v1.schema.json"


@cache
def document_schema() -> dict[str, Any]:
    """Our JSON Schema (2020-12) of the servable document the builder emits."""
    with (data_dir("schemas") / SCHEMA_NAME).open(encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    return schema


@cache
def _validator() -> Any:
    import jsonschema

    cls = jsonschema.validators.validator_for(document_schema())
    return cls(document_schema(), format_checker=cls.FORMAT_CHECKER)


@cache
def _fast_check() -> Check | None:
    """The compiled yes/no check, so a valid document never pays for importing jsonschema (None: not usable)."""
    try:
        return compile_schema(document_schema())
    except Unsupported:
        return None


def prepare() -> None:
    """Compile the checker now (a worker started ahead of its task is then ready when the task comes)."""
    if _fast_check() is None:
        _validator()


def check_document(document: Any) -> list[str]:
    """Every problem with `document` as `field.path: message` lines, in a stable order; empty when valid."""
    fast = _fast_check()
    if fast is not None and fast(document):
        return []  # only a "valid" answer is trusted; anything else is explained by jsonschema
    problems = []
    for error in _validator().iter_errors(document):
        where = ".".join(str(p) for p in error.absolute_path) or "(document)"
        problems.append(f"{where}: {error.message}")
    return sorted(problems)
