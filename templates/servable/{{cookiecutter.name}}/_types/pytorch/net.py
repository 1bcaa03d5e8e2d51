"""The servable's network. `torch.save(model)` pickles a reference to `net.TinyNet`, so this module is
shipped with the model (dlhub.yaml: `files` and `custom_objects`)."""

from __future__ import annotations

import torch
from torch import nn


class TinyNet(nn.Module):
    """4 features in, the probability of each of 3 classes out, through one hidden layer of 16 units."""

    def __init__(self, n_features: int = 4, n_classes: int = 3, hidden: int = 16) -> None:
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Unnormalised scores, what the training loss wants."""
        return self.layers(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities, what the servable returns."""
        return torch.softmax(self.logits(x), dim=-1)
