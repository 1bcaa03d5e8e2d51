"""Behaviour of the saved network, the file that gets published (run `python train.py` first)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from data import CENTRES, make_points
from net import TinyNet

MODEL_PATH = Path(__file__).resolve().parents[1] / "model.pt"


@pytest.fixture(scope="module")
def model() -> TinyNet:
    if not MODEL_PATH.exists():
        pytest.fail("model.pt is missing: run `python train.py` first")
    # weights_only=False: the file holds a whole module, which only a trusted file (our own) should.
    loaded = torch.load(MODEL_PATH, weights_only=False)
    assert isinstance(loaded, TinyNet)
    return loaded.eval()


def test_classifies_unseen_points_accurately(model: TinyNet) -> None:
    points, labels = make_points(seed=1)
    with torch.no_grad():
        predicted = model(torch.tensor(points)).argmax(dim=1)
    accuracy = (predicted == torch.tensor(labels)).float().mean().item()
    assert accuracy >= 0.95


def test_returns_one_probability_per_class(model: TinyNet) -> None:
    with torch.no_grad():
        probabilities = model(torch.tensor(CENTRES))
    assert probabilities.shape == (3, 3)  # input_shape [null, 4] -> output_shape [null, 3]
    assert probabilities.dtype == torch.float32
    assert torch.allclose(probabilities.sum(dim=1), torch.ones(3))
    assert probabilities.argmax(dim=1).tolist() == [0, 1, 2]
