"""Behaviour of the SavedModel, the folder that gets published (run `python train.py` first)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorflow as tf

from data import CENTRES, make_points

MODEL_PATH = Path(__file__).resolve().parents[1] / "saved_model"


@pytest.fixture(scope="module")
def serve() -> Any:
    if not MODEL_PATH.is_dir():
        pytest.fail("saved_model/ is missing: run `python train.py` first")
    return tf.saved_model.load(str(MODEL_PATH)).signatures["serving_default"]


def probabilities(serve: Any, points: list[list[float]]) -> np.ndarray:
    return serve(features=tf.constant(points, tf.float32))["probabilities"].numpy()


def test_classifies_unseen_points_accurately(serve: Any) -> None:
    points, labels = make_points(seed=1)
    assert np.mean(probabilities(serve, points).argmax(axis=1) == np.array(labels)) >= 0.95


def test_returns_one_probability_per_class(serve: Any) -> None:
    result = probabilities(serve, CENTRES)
    assert result.shape == (3, 3)
    assert np.allclose(result.sum(axis=1), 1.0, atol=1e-5)
    assert list(result.argmax(axis=1)) == [0, 1, 2]
