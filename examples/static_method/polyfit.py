"""A polynomial surrogate served as a plain Python function.

The coefficients are the "model": `examples/make_models.py` fits them and writes coefficients.json.
"""

from __future__ import annotations

import json
from pathlib import Path

_COEFFICIENTS: list[float] = json.loads(Path(__file__).with_name("coefficients.json").read_text())["coefficients"]


def predict(x: list[float], clip: bool = False) -> list[float]:
    """Evaluate the fitted polynomial at every x; with `clip`, negative predictions become 0."""
    out = []
    for value in x:
        y = 0.0
        for c in _COEFFICIENTS:  # Horner's rule, highest power first (numpy.polyfit order)
            y = y * value + c
        out.append(max(y, 0.0) if clip else y)
    return out
