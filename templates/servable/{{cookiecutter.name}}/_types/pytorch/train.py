"""Train the servable's network and write model.pt, the file dlhub.yaml points at.

Trains on the synthetic points of data.py in about a second on a CPU; replace them with your own data.
"""

from __future__ import annotations

from pathlib import Path

import torch

from data import make_points
from net import TinyNet

MODEL_PATH = Path(__file__).resolve().with_name("model.pt")


def train(epochs: int = 200) -> TinyNet:
    """Full-batch Adam on 150 points; seeded, so every run gives the same weights."""
    torch.manual_seed(0)
    points, labels = make_points(seed=0)
    x, y = torch.tensor(points), torch.tensor(labels)
    model = TinyNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model.logits(x), y)
        loss.backward()
        optimizer.step()
    return model.eval()


def save(model: TinyNet, path: Path = MODEL_PATH) -> None:
    """Save the whole module (dlhub.yaml says `format: module`)."""
    torch.save(model, path)


if __name__ == "__main__":
    save(train())
    print(f"wrote {MODEL_PATH.name}")
