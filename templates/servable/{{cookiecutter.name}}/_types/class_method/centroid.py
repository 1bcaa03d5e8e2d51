"""The servable's class: a nearest-centroid classifier in pure Python.

DLHub unpickles the object that `python train.py` saves and calls its `predict` method
(`servable.options.method`). The class lives in its own module, so the pickle refers to
`centroid.NearestCentroid`, which dlhub.yaml ships with the object (`files`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence


class NearestCentroid:
    """Assigns each point to the class whose mean training point (centroid) is closest."""

    def __init__(self) -> None:
        self.centroids: dict[str, list[float]] = {}

    def fit(self, points: Sequence[Sequence[float]], labels: Sequence[str]) -> NearestCentroid:
        """Learn one centroid per label; returns self so calls can be chained."""
        if len(points) != len(labels) or not points:
            raise ValueError("fit needs as many labels as points, and at least one point")
        groups: dict[str, list[Sequence[float]]] = {}
        for point, label in zip(points, labels):
            groups.setdefault(label, []).append(point)
        self.centroids = {label: [sum(col) / len(col) for col in zip(*rows)] for label, rows in groups.items()}
        return self

    def predict(self, points: list[list[float]]) -> list[str]:
        """The label of the nearest centroid for every point."""
        if not self.centroids:
            raise ValueError("the model is not fitted: call fit() first")
        width = len(next(iter(self.centroids.values())))
        labels = []
        for point in points:
            if len(point) != width:
                raise ValueError(f"each point needs {width} numbers, got {len(point)}")
            labels.append(min(self.centroids, key=lambda label: math.dist(point, self.centroids[label])))
        return labels
