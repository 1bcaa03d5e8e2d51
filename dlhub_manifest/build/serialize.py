"""Deterministic bytes for a document: the same project always gives a byte-identical dlhub.json."""

from __future__ import annotations

import json
from typing import Any

from dlhub_manifest.errors import DLHubManifestError


def canonical(value: Any, path: tuple[str, ...] = ()) -> Any:
    """Keys sorted at every level, except `servable.methods`, where `run` (the default method) comes first."""
    if isinstance(value, dict):
        keys = sorted(value)
        if path == ("servable", "methods") and "run" in value:
            keys = ["run", *(k for k in keys if k != "run")]
        return {k: canonical(value[k], (*path, str(k))) for k in keys}
    if isinstance(value, (list, tuple)):
        return [canonical(v, path) for v in value]
    return value


def dumps(document: dict[str, Any]) -> bytes:
    """UTF-8 JSON, 2-space indent, canonical key order, trailing newline."""
    try:
        text = json.dumps(canonical(document), indent=2, ensure_ascii=False, allow_nan=False)
    except ValueError as e:
        raise DLHubManifestError(f"the document cannot be written as JSON: {e}; "
                                 "NaN and Infinity have no JSON form, write them as strings") from e
    return (text + "\n").encode("utf-8")
