"""One inspector per servable type, in a registry keyed by the manifest's `servable.type`.

Inspectors that load a user's model do it through `runner.run_probe` (a subprocess with a timeout);
Keras and TensorFlow files are read as data, without their frameworks.

The registry is loaded on first use: the probe subprocess (which may run in an isolated virtual environment
without PyYAML) imports single modules of this package and must not pull in the builder.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dlhub_manifest.build.inspect.base import InspectContext, Inspection, Inspector

    INSPECTORS: dict[str, Inspector]

__all__ = ["INSPECTORS", "InspectContext", "Inspection", "Inspector"]
_TYPES = ("sklearn", "static_method", "class_method", "pytorch", "keras", "tensorflow")


def __getattr__(name: str) -> Any:
    if name == "INSPECTORS":
        inspectors = {kind: import_module(f"{__name__}.{kind}").KIND for kind in _TYPES}
        globals()["INSPECTORS"] = inspectors
        return inspectors
    if name in ("InspectContext", "Inspection", "Inspector"):
        return getattr(import_module(f"{__name__}.base"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
