"""Regenerate the tiny model artifacts committed under examples/<type>/.

Usage: python examples/make_models.py [sklearn static_method class_method pytorch keras tensorflow]
(no argument: all of them). Each framework is imported only by the maker that needs it, so a machine
without TensorFlow can still remake the others. Seeds are fixed so that reruns give the same models.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent


def make_sklearn() -> None:
    """Iris LogisticRegression(max_iter=500), pickled: the same model as the dlhub_sdk peer example."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(x, y)
    with (HERE / "sklearn" / "model.pkl").open("wb") as fh:
        pickle.dump(model, fh)


def make_static_method() -> None:
    """Fit a degree-2 polynomial to a noisy quadratic; the coefficients are the static method's model."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = np.linspace(-2.0, 2.0, 41)
    y = 0.5 * x**2 - x + 1.0 + rng.normal(0.0, 0.05, x.shape)
    coefficients = [round(float(c), 6) for c in np.polyfit(x, y, 2)]
    text = json.dumps({"degree": 2, "coefficients": coefficients}, indent=2) + "\n"
    (HERE / "static_method" / "coefficients.json").write_text(text, encoding="utf-8")


def make_class_method() -> None:
    """Pickle a fitted `calibrator.LinearCalibrator` (its class lives in the example project)."""
    sys.path.insert(0, str(HERE / "class_method"))
    try:
        from calibrator import LinearCalibrator

        calibrator = LinearCalibrator.fit([0.0, 1.0, 2.0, 3.0], [1.1, 2.9, 5.2, 6.8])
        with (HERE / "class_method" / "calibrator.pkl").open("wb") as fh:
            pickle.dump(calibrator, fh)
    finally:
        sys.path.remove(str(HERE / "class_method"))


def make_pytorch() -> None:
    """A 4 -> 8 -> 3 multilayer perceptron saved whole with `torch.save(model)`."""
    import torch

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    model.eval()
    torch.save(model, HERE / "pytorch" / "model.pt")


def make_keras() -> None:
    """A small Keras 3 classifier (4 features -> 3 softmax probabilities) saved as a `.keras` file."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(4,), name="features")
    hidden = keras.layers.Dense(8, activation="relu", name="hidden")(inputs)
    outputs = keras.layers.Dense(3, activation="softmax", name="probabilities")(hidden)
    model = keras.Model(inputs, outputs, name="iris_mlp")
    model.save(HERE / "keras" / "model.keras")


def make_tensorflow() -> None:
    """A TensorFlow SavedModel with two signatures: `serving_default` (becomes `run`) and `embed`."""
    import tensorflow as tf

    tf.random.set_seed(0)

    class Scorer(tf.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.w = tf.Variable(tf.random.normal([4, 3], seed=0), name="w")
            self.b = tf.Variable(tf.zeros([3]), name="b")

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="features")])
        def score(self, features: tf.Tensor) -> dict[str, tf.Tensor]:
            return {"probabilities": tf.nn.softmax(tf.matmul(features, self.w) + self.b)}

        @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="features")])
        def embed(self, features: tf.Tensor) -> dict[str, tf.Tensor]:
            return {"embedding": tf.matmul(features, self.w)}

    scorer = Scorer()
    target = HERE / "tensorflow" / "saved_model"
    shutil.rmtree(target, ignore_errors=True)
    tf.saved_model.save(scorer, str(target), signatures={"serving_default": scorer.score, "embed": scorer.embed})


MAKERS: dict[str, Callable[[], None]] = {
    "sklearn": make_sklearn,
    "static_method": make_static_method,
    "class_method": make_class_method,
    "pytorch": make_pytorch,
    "keras": make_keras,
    "tensorflow": make_tensorflow,
}


def main(argv: list[str]) -> int:
    """Run the makers named in `argv` (all by default); report unknown names instead of guessing."""
    names = argv or list(MAKERS)
    unknown = [n for n in names if n not in MAKERS]
    if unknown:
        print(f"unknown example(s): {', '.join(unknown)}; choose from {', '.join(MAKERS)}", file=sys.stderr)
        return 2
    for name in names:
        MAKERS[name]()
        print(f"made examples/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
