"""(In the inspection subprocess only) deserialise a user's pickled object: this runs their code."""

from __future__ import annotations

from typing import Any


def load_object(path: str, serialization: str = "pickle") -> Any:
    """Load `path` with pickle or joblib, as the manifest says it was saved."""
    if serialization == "joblib":
        import joblib

        return joblib.load(path)
    import pickle

    with open(path, "rb") as fh:
        return pickle.load(fh)  # noqa: S301 - only ever called in the sandboxed subprocess
