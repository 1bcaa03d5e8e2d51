"""Train the servable's model and write model.pkl, the file dlhub.yaml points at.

A logistic regression on the iris data set that ships with scikit-learn, so it trains in a second
without a download. Replace `train()` with your own estimator; keep `save()` in step with
`serialization: pickle` in dlhub.yaml.
"""

from __future__ import annotations

import pickle
from pathlib import Path

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

MODEL_PATH = Path(__file__).resolve().with_name("model.pkl")


def train() -> LogisticRegression:
    """Fit on iris with the species names as labels, so `classes_` matches `classes` in dlhub.yaml."""
    iris = load_iris()
    return LogisticRegression(max_iter=500).fit(iris.data, iris.target_names[iris.target])


def save(model: LogisticRegression, path: Path = MODEL_PATH) -> None:
    """Pickle the fitted model."""
    with path.open("wb") as fh:
        pickle.dump(model, fh)


if __name__ == "__main__":
    save(train())
    print(f"wrote {MODEL_PATH.name}")
