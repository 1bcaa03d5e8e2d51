"""The builder: a validated dlhub.yaml becomes the DLHub servable document (`datacite`, `dlhub`, `servable`).

`build(path)` validates first and raises `InvalidManifestError` with every diagnostic; `dumps` gives the
canonical bytes of `dlhub.json`; `check_document` re-validates a document against our own schema.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from .check import check_document
from .document import BuildOptions, assemble, build, build_document, build_report
from .serialize import dumps

__all__ = ["BuildOptions", "assemble", "build", "build_document", "build_report", "check_document", "dumps"]


class _CallableModule(ModuleType):
    """Importing this package sets `dlhub_manifest.build` to the package, shadowing the lazy API function of the
    same name; making the package callable keeps `dlhub_manifest.build(path)` working either way."""

    def __call__(self, path: str | Path, **kwargs: Any) -> dict[str, Any]:
        return build(path, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
