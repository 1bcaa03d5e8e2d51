"""Train the servable's model and write the SavedModel folder `saved_model`, which dlhub.yaml points at.

A softmax regression written with plain TensorFlow, trained on the synthetic points of data.py in a
few seconds on a CPU; replace them with your own data. The `serving_default` signature takes
`features` (float32, shape [None, 4]) and returns `probabilities` (shape [None, 3]).
"""

from __future__ import annotations

from pathlib import Path

import tensorflow as tf

from data import make_points

MODEL_PATH = Path(__file__).resolve().with_name("saved_model")


class SoftmaxRegression(tf.Module):
    """Probabilities of 3 classes from 4 features: softmax(x @ w + b)."""

    def __init__(self, n_features: int = 4, n_classes: int = 3) -> None:
        super().__init__()
        self.w = tf.Variable(tf.zeros([n_features, n_classes]), name="w")
        self.b = tf.Variable(tf.zeros([n_classes]), name="b")

    def logits(self, x: tf.Tensor) -> tf.Tensor:
        return tf.matmul(x, self.w) + self.b

    @tf.function(input_signature=[tf.TensorSpec([None, 4], tf.float32, name="features")])
    def serve(self, features: tf.Tensor) -> dict[str, tf.Tensor]:
        """The serving signature: a named output, so clients read `probabilities`."""
        return {"probabilities": tf.nn.softmax(self.logits(features))}


def train(steps: int = 300, learning_rate: float = 0.5) -> SoftmaxRegression:
    """Full-batch gradient descent on 150 points; deterministic (the weights start at zero)."""
    points, labels = make_points(seed=0)
    x, y = tf.constant(points, tf.float32), tf.constant(labels)
    model = SoftmaxRegression()
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, model.logits(x)))
        for variable, gradient in zip([model.w, model.b], tape.gradient(loss, [model.w, model.b])):
            variable.assign_sub(learning_rate * gradient)
    return model


def save(model: SoftmaxRegression, path: Path = MODEL_PATH) -> None:
    """Write the SavedModel with its serving signature."""
    tf.saved_model.save(model, str(path), signatures={"serving_default": model.serve})


if __name__ == "__main__":
    save(train())
    print(f"wrote {MODEL_PATH.name}/")
