"""scikit-learn inspector with real models: estimator class, classifier or not, classes, columns, version pin."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import joblib
import pytest
import sklearn
from dlhub_oracle import validate_servable
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from test_build_support import project

from dlhub_manifest.build import BuildOptions, build, build_report
from dlhub_manifest.errors import InvalidManifestError

X, Y = load_iris(return_X_y=True)
NAMES = ["setosa", "versicolor", "virginica"]


def _servable(options: str, methods: str = "") -> str:
    text = "servable:\n  type: sklearn\n  options:\n" + "".join(f"    {line}\n" for line in options.splitlines())
    return text + methods


def _project(root: Path, model: Any, options: str, *, joblib_file: bool = False, methods: str = "") -> Path:
    name = "model.joblib" if joblib_file else "model.pkl"
    path = root / name
    root.mkdir(parents=True, exist_ok=True)
    if joblib_file:
        joblib.dump(model, path)
    else:
        path.write_bytes(pickle.dumps(model))
    return project(root, _servable(f"model: {name}\n" + options, methods))


def test_regressor_predicts_and_pins_the_saved_version(tmp_path: Path) -> None:
    root = _project(tmp_path, LinearRegression().fit(X, Y), "n_input_columns: 4")
    document = build(root)
    run = document["servable"]["methods"]["run"]
    assert run["method_details"] == {"method_name": "predict"}
    assert run["output"] == {"type": "ndarray", "shape": [None], "item_type": {"type": "float"},
                             "description": "Predictions of the machine learning model."}
    assert document["servable"]["options"] == {"serialization_method": "pickle", "is_classifier": False}
    assert document["servable"]["model_type"] == "LinearRegression"
    assert document["dlhub"]["dependencies"]["python"] == {"scikit-learn": sklearn.__version__}
    validate_servable(document)


def test_pipeline_classifier_without_predict_proba_uses_predict_and_the_last_step(tmp_path: Path) -> None:
    labels = [NAMES[i] for i in Y]
    model = make_pipeline(StandardScaler(), LinearSVC()).fit(X, labels)
    root = _project(tmp_path, model, "n_input_columns: 4\nserialization: joblib", joblib_file=True)
    document = build(root)
    assert document["servable"]["model_type"] == "LinearSVC"
    assert document["servable"]["model_summary"].startswith("Pipeline(steps=[('standardscaler', StandardScaler())")
    run = document["servable"]["methods"]["run"]
    assert run["method_details"] == {"method_name": "predict"}
    assert run["output"]["item_type"] == {"type": "string"}
    assert document["servable"]["options"] == {"serialization_method": "joblib", "is_classifier": True,
                                               "classes": NAMES}  # read from the model's classes_


def test_listed_classes_and_columns_are_checked_against_the_model(tmp_path: Path) -> None:
    model = LogisticRegression(max_iter=500).fit(X, Y)
    root = _project(tmp_path, model, "n_input_columns: 5\nclasses: [a, b]\nmethod: transform")
    with pytest.raises(InvalidManifestError) as info:
        build(root)
    found = {d.field: d.message for d in info.value.diagnostics}
    assert found == {
        "servable.options.classes": "2 classes are listed but the model was fitted on 3 (its classes_ are [0, 1, 2])",
        "servable.options.n_input_columns": "n_input_columns is 5 but the model was fitted on 4 features",
        "servable.options.method": "the model has no transform() method",
    }
    assert [d.line for d in info.value.diagnostics] == sorted(d.line or 0 for d in info.value.diagnostics)


def test_declared_extra_method_gets_the_estimator_method_blocks(tmp_path: Path) -> None:
    methods = "  methods:\n    predict:\n      description: Class labels.\n"
    root = _project(tmp_path, LogisticRegression(max_iter=500).fit(X, Y), f"n_input_columns: 4\nclasses: {NAMES}",
                    methods=methods)
    document = build(root)
    assert list(document["servable"]["methods"]) == ["run", "predict"]
    predict = document["servable"]["methods"]["predict"]
    assert predict["method_details"] == {"method_name": "predict"}
    assert predict["output"]["shape"] == [None] and predict["description"] == "Class labels."
    assert document["servable"]["methods"]["run"]["output"]["shape"] == [None, 3]


def test_no_inspect_builds_from_the_options_alone(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(b"never loaded")
    root = project(tmp_path, _servable(f"model: model.pkl\nn_input_columns: 4\nclasses: {NAMES}"))
    document, report = build_report(root, BuildOptions(inspect=False))
    assert report.diagnostics == [] and document is not None
    assert document["servable"]["methods"]["run"]["method_details"] == {"method_name": "predict_proba"}
    assert document["servable"]["options"]["is_classifier"] is True
    assert "model_type" not in document["servable"] and document["dlhub"]["dependencies"]["python"] == {}


def test_a_file_that_is_not_a_pickle(tmp_path: Path) -> None:
    (tmp_path / "model.pkl").write_bytes(b"\x00garbage")
    root = project(tmp_path, _servable("model: model.pkl\nn_input_columns: 4"))
    with pytest.raises(InvalidManifestError) as info:
        build(root)
    (diag,) = info.value.diagnostics
    assert diag.field == "servable.options.model"
    assert diag.message.startswith("inspection failed: UnpicklingError")
