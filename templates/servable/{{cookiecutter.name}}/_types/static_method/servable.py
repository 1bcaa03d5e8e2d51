"""The servable: a plain Python function that DLHub calls as `run` (see `servable.options.function`).

Type hints describe the input and output; dlhub.yaml declares them too, as DLHub argument types.
"""

from __future__ import annotations

import statistics


def run(values: list[float]) -> dict[str, float]:
    """Count, mean, population standard deviation, minimum and maximum of `values`."""
    if not values:
        raise ValueError("values is empty: pass at least one number")
    numbers = [float(v) for v in values]
    return {
        "count": len(numbers),
        "mean": statistics.fmean(numbers),
        "stdev": statistics.pstdev(numbers),
        "min": min(numbers),
        "max": max(numbers),
    }
