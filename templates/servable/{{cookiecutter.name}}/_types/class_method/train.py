"""Fit the servable's object and pickle it to model.pkl, the file dlhub.yaml points at.

Trains on the synthetic points of data.py; replace them with your own data.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from centroid import NearestCentroid
from data import CLASSES, make_points

MODEL_PATH = Path(__file__).resolve().with_name("model.pkl")


def train() -> NearestCentroid:
    """Fit the classifier on 50 points per class."""
    points, labels = make_points(seed=0)
    return NearestCentroid().fit(points, [CLASSES[i] for i in labels])


def save(model: NearestCentroid, path: Path = MODEL_PATH) -> None:
    """Pickle the fitted object (dlhub.yaml says `serialization: pickle`)."""
    with path.open("wb") as fh:
        pickle.dump(model, fh)


if __name__ == "__main__":
    save(train())
    print(f"wrote {MODEL_PATH.name}")
