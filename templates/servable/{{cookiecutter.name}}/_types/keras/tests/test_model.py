"""Behaviour of the saved network, the file that gets published (run `python train.py` first)."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")  # as in train.py, before keras is imported

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from data import CENTRES, make_points  # noqa: E402

MODEL_PATH = Path(__file__).resolve().parents[1] / "model.keras"


@pytest.fixture(scope="module")
def model() -> keras.Model:
    if not MODEL_PATH.exists():
        pytest.fail("model.keras is missing: run `python train.py` first")
    return keras.saving.load_model(MODEL_PATH)


def test_classifies_unseen_points_accurately(model: keras.Model) -> None:
    points, labels = make_points(seed=1)
    predicted = model.predict(np.array(points, dtype="float32"), verbose=0).argmax(axis=1)
    assert np.mean(predicted == np.array(labels)) >= 0.95


def test_returns_one_probability_per_class(model: keras.Model) -> None:
    probabilities = model.predict(np.array(CENTRES, dtype="float32"), verbose=0)
    assert probabilities.shape == (3, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)
    assert list(probabilities.argmax(axis=1)) == [0, 1, 2]
