"""Train the servable's network and write model.keras, the file dlhub.yaml points at.

Trains on the synthetic points of data.py in a few seconds on a CPU; replace them with your own data.
Keras 3 runs on a backend: this project uses PyTorch unless KERAS_BACKEND says otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported: it reads the backend once

import keras  # noqa: E402
import numpy as np  # noqa: E402

from data import make_points  # noqa: E402

MODEL_PATH = Path(__file__).resolve().with_name("model.keras")


def build() -> keras.Model:
    """4 features in, 16 hidden units, the probability of each of 3 classes out."""
    return keras.Sequential([
        keras.Input(shape=(4,), name="features"),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dense(3, activation="softmax", name="probabilities"),
    ])


def train(epochs: int = 40) -> keras.Model:
    """Full-batch Adam on 150 points; seeded, so every run gives the same weights."""
    keras.utils.set_random_seed(0)
    points, labels = make_points(seed=0)
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy")
    model.fit(np.array(points, dtype="float32"), np.array(labels), epochs=epochs, batch_size=len(points), verbose=0)
    return model


if __name__ == "__main__":
    train().save(MODEL_PATH)
    print(f"wrote {MODEL_PATH.name}")
