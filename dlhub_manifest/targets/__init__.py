"""Where publications go: the embedded local registry (default) or, with `--target`, a registry over HTTP."""

from __future__ import annotations

from importlib import import_module
from pathlib import Path

from dlhub_manifest.errors import UsageError
from dlhub_manifest.targets.base import Target


def resolve_target(registry: str | Path | None = None, target: str | None = None) -> Target:
    """The target for `--registry PATH` / `--target URL|NAME` (default: the local registry from config)."""
    if registry and target:
        raise UsageError("give either --registry (a local registry folder) or --target (a registry URL), not both")
    if target:
        try:
            http = import_module(".http", __name__)
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.http":
                raise
            raise UsageError("this dlhub-manifest cannot publish to an HTTP registry (targets.http is missing)") from e
        remote: Target = http.HttpTarget.from_name(target)
        return remote
    from dlhub_manifest.targets.local import LocalTarget
    from dlhub_manifest.util.locations import registry_path

    return LocalTarget(registry_path(registry))
