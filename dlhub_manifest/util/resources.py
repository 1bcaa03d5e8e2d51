"""Package data (schemas, templates) through importlib.resources, with a source-tree fallback."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

SUPPORTED_MANIFEST_VERSIONS = (1,)


def data_dir(name: str) -> Path:
    """Directory of shipped data: `schemas` or `templates`.

    In a wheel they live at `dlhub_manifest/_data/<name>`; in an editable checkout hatchling's
    force-include is not applied, so we fall back to the repository's top-level folder.
    """
    packaged = resources.files("dlhub_manifest") / "_data" / name
    if packaged.is_dir():
        return Path(str(packaged))
    source = Path(str(resources.files("dlhub_manifest"))).parent / name
    if source.is_dir():
        return source
    raise FileNotFoundError(f"dlhub-manifest data folder {name!r} is missing from the installation")


def schema_path(version: int = 1) -> Path:
    """Path of the manifest JSON Schema for `manifest_version: version`."""
    return data_dir("schemas") / f"dlhub-manifest.v{version}.schema.json"


@cache
def manifest_schema(version: int = 1) -> dict[str, Any]:
    """The parsed manifest schema (cached: it is read once per process)."""
    with schema_path(version).open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@cache
def spdx_identifiers() -> frozenset[str]:
    """Known SPDX license identifiers (licenses and exceptions)."""
    with (data_dir("schemas") / "spdx-licenses.json").open(encoding="utf-8") as fh:
        data = json.load(fh)
    return frozenset(data["licenses"]) | frozenset(data["exceptions"])
