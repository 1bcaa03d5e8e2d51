"""Behaviour of the pickled object, the file that gets published (run `python train.py` first)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from centroid import NearestCentroid
from data import CENTRES, CLASSES, make_points

MODEL_PATH = Path(__file__).resolve().parents[1] / "model.pkl"


@pytest.fixture(scope="module")
def model() -> NearestCentroid:
    if not MODEL_PATH.exists():
        pytest.fail("model.pkl is missing: run `python train.py` first")
    with MODEL_PATH.open("rb") as fh:
        loaded = pickle.load(fh)
    assert isinstance(loaded, NearestCentroid)
    return loaded


def test_classifies_unseen_points_accurately(model: NearestCentroid) -> None:
    points, labels = make_points(seed=1)
    predicted = model.predict(points)
    correct = sum(p == CLASSES[label] for p, label in zip(predicted, labels))
    assert correct / len(points) >= 0.95


def test_each_centre_gets_its_own_class(model: NearestCentroid) -> None:
    assert model.predict(CENTRES) == CLASSES


def test_refuses_points_of_the_wrong_width(model: NearestCentroid) -> None:
    with pytest.raises(ValueError, match="4 numbers"):
        model.predict([[1.0, 2.0]])
