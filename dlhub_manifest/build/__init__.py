"""The builder: a validated dlhub.yaml becomes the DLHub servable document (`datacite`, `dlhub`, `servable`).

`build(path)` validates first and raises `InvalidManifestError` with every diagnostic; `dumps` gives the
canonical bytes of `dlhub.json`; `check_document` re-validates a document against our own schema.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dlhub_manifest.build.check import check_document
    from dlhub_manifest.build.document import BuildOptions, assemble, build, build_document, build_report
    from dlhub_manifest.build.serialize import dumps

# Loaded on first use: the registry worker checks documents with `check` alone, and starts faster without
# the builder, its inspectors and their imports (YAML, file selection).
_LAZY = {"check_document": ".check", "dumps": ".serialize", **dict.fromkeys(
    ["BuildOptions", "assemble", "build", "build_document", "build_report"], ".document")}

__all__ = ["BuildOptions", "assemble", "build", "build_document", "build_report", "check_document", "dumps"]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module, __name__), name)
