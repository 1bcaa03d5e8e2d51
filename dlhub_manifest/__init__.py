"""dlhub-manifest: validate, build, publish and track DLHub servables from one dlhub.yaml.

The public API is imported lazily so that `import dlhub_manifest` (and the CLI) starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_API: dict[str, str] = {
    "validate_path": "dlhub_manifest.validate",
    "load_file": "dlhub_manifest.manifest",
    "build": "dlhub_manifest.build",
    "Diagnostic": "dlhub_manifest.diagnostics",
    "DLHubManifestError": "dlhub_manifest.errors",
}

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'dlhub_manifest' has no attribute {name!r}")
    return getattr(import_module(module), name)
