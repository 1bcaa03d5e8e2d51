"""A small synthetic data set: three classes of 4-feature points around well-separated centres.

Pure Python and seeded, so training and tests see the same numbers on every machine.
Replace it with your own data when you adapt this project.
"""

from __future__ import annotations

import random

CLASSES = ["a", "b", "c"]
CENTRES = [
    [0.0, 0.0, 0.0, 0.0],
    [3.0, 3.0, 0.0, 0.0],
    [0.0, 3.0, 3.0, 3.0],
]


def make_points(n_per_class: int = 50, seed: int = 0, noise: float = 0.5) -> tuple[list[list[float]], list[int]]:
    """`n_per_class` noisy points around each centre, and the index of each point's class."""
    rng = random.Random(seed)
    points: list[list[float]] = []
    labels: list[int] = []
    for label, centre in enumerate(CENTRES):
        for _ in range(n_per_class):
            points.append([c + rng.gauss(0.0, noise) for c in centre])
            labels.append(label)
    return points, labels
