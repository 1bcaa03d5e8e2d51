"""dlhub-manifest: validate, build, publish and track DLHub servables from one dlhub.yaml.

The public API is imported lazily so that `import dlhub_manifest` (and the CLI) starts fast. Building is
`dlhub_manifest.build.build(path)` (also `dlhub_manifest.api.build`): `dlhub_manifest.build` is the package.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_API: dict[str, str] = {
    "validate_path": "dlhub_manifest.manifest.validate",
    "load_file": "dlhub_manifest.manifest.load",
    "Diagnostic": "dlhub_manifest.manifest.diagnostics",
    "DLHubManifestError": "dlhub_manifest.errors",
    "publish_servable": "dlhub_manifest.api",
    "publish_repository": "dlhub_manifest.api",
    "get_task_status": "dlhub_manifest.api",
    "easy_publish": "dlhub_manifest.api",
    "get_servables": "dlhub_manifest.api",
    "list_servables": "dlhub_manifest.api",
    "describe_servable": "dlhub_manifest.api",
    "describe_methods": "dlhub_manifest.api",
    "search": "dlhub_manifest.api",
    "run": "dlhub_manifest.api",
    "validate_input": "dlhub_manifest.api",
}

_SUBPACKAGES = frozenset({"api", "build", "errors"})  # reachable as attributes before any import

__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    if name in _SUBPACKAGES:
        return import_module(f"{__name__}.{name}")
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'dlhub_manifest' has no attribute {name!r}")
    return getattr(import_module(module), name)
