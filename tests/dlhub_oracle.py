"""DLHub's published servable schemas as a test oracle (read from ../shared, never copied into the project).

The published files write local refs as `#definitions/x`; they are mended to `#/definitions/x` while reading,
and every file is registered under its path so cross-file refs (`datacite-v4.1.json#`, `servable/method.json#`,
`argument_type.json#` relative to `servable/`) resolve.

The reference lives beside the clone (`../shared/reference`, or `$DLHUB_MANIFEST_REFERENCE`). A test that needs
it is skipped with the reason when it is absent, so a bare `git clone` passes; `.ci/run` sets
`DLHUB_REFERENCE_REQUIRED=1`, which turns that skip into a failure, so CI always cross-checks.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT7

REFERENCE = Path(os.environ.get("DLHUB_MANIFEST_REFERENCE")
                 or Path(__file__).resolve().parents[1].parent / "shared" / "reference")
SCHEMAS = REFERENCE / "dlhub_schemas" / "schemas"
PEER_EXAMPLES = REFERENCE / "peer-examples"
BASE_URI = "https://schemas.dlhub.org/"
REQUIRED_VARIABLE = "DLHUB_REFERENCE_REQUIRED"


def require_reference() -> Path:
    """The reference folder; absent, skip the calling test with the reason (fail it when CI requires it)."""
    missing = [p for p in (SCHEMAS, PEER_EXAMPLES) if not p.is_dir()]
    if missing:
        reason = (f"DLHub reference schemas not found at {missing[0]}: put the reference at ../shared/reference "
                  "beside the clone or set DLHUB_MANIFEST_REFERENCE")
        if os.environ.get(REQUIRED_VARIABLE) == "1":
            pytest.fail(f"{reason} ({REQUIRED_VARIABLE}=1 requires it)", pytrace=False)
        pytest.skip(reason)
    return REFERENCE


def _load(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8").replace('"#definitions/', '"#/definitions/')
    data: dict[str, Any] = json.loads(text)
    data.pop("id", None)  # draft-04 `id: datacite-v4.1.json` would re-base refs; we register by path instead
    return data


@cache
def registry() -> Registry:
    """Every published schema, keyed by its path under the schemas folder."""
    require_reference()
    resources = []
    for path in sorted(SCHEMAS.rglob("*.json")):
        data = _load(path)
        spec = DRAFT4 if "draft-04" in str(data.get("$schema", "")) else DRAFT7
        resources.append((BASE_URI + path.relative_to(SCHEMAS).as_posix(), Resource(data, specification=spec)))
    return Registry().with_resources(resources)


@cache
def _validator() -> jsonschema.protocols.Validator:
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "$ref": BASE_URI + "servable.json"}
    return jsonschema.Draft7Validator(schema, registry=registry())


def servable_errors(document: Any) -> list[str]:
    """Every way `document` breaks DLHub's servable schema, as `path: message` lines."""
    return [f"{'.'.join(map(str, e.absolute_path)) or '(document)'}: {e.message}"
            for e in _validator().iter_errors(document)]


def validate_servable(document: Any) -> None:
    """Raise AssertionError listing every problem unless `document` is a valid DLHub servable document."""
    errors = servable_errors(document)
    if errors:
        raise AssertionError("not a valid DLHub servable document:\n  " + "\n  ".join(errors))


def peer_document(name: str) -> dict[str, Any]:
    """The document dlhub_sdk 2.1.0 built for peer example `name`."""
    require_reference()
    data: dict[str, Any] = json.loads((PEER_EXAMPLES / name / "dlhub_sdk-2.1.0.dlhub.json").read_text("utf-8"))
    return data
