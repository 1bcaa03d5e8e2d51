"""Behaviour of the saved model, the file that gets published (run `python train.py` first)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_iris

MODEL_PATH = Path(__file__).resolve().parents[1] / "model.pkl"


@pytest.fixture(scope="module")
def model() -> Any:
    if not MODEL_PATH.exists():
        pytest.fail("model.pkl is missing: run `python train.py` first")
    with MODEL_PATH.open("rb") as fh:
        return pickle.load(fh)


def test_classes_are_in_the_order_dlhub_yaml_declares(model: Any) -> None:
    assert list(model.classes_) == ["setosa", "versicolor", "virginica"]


def test_predicts_iris_species_accurately(model: Any) -> None:
    iris = load_iris()
    accuracy = np.mean(model.predict(iris.data) == iris.target_names[iris.target])
    assert accuracy >= 0.95


def test_probabilities_cover_every_class_and_sum_to_one(model: Any) -> None:
    probabilities = model.predict_proba([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])
    assert probabilities.shape == (2, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert list(probabilities.argmax(axis=1)) == [0, 2]  # a setosa, then a virginica
