"""Keras inspector: shapes and output names read from the saved configuration, Keras only as a fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from dlhub_oracle import validate_servable
from test_build_support import REPO, project

from dlhub_manifest.build import build
from dlhub_manifest.errors import InvalidManifestError

LAYERS = '''
import keras


@keras.saving.register_keras_serializable(package="demo")
class Scale(keras.layers.Layer):
    def call(self, x):
        return x * 2.0
'''
# Made in a subprocess with the torch backend: Keras warns on import and on .h5 saving, which pytest would fail on.
MAKE = '''
import sys
import keras
out = sys.argv[1]
sys.path.insert(0, out + "/custom")
from layers import Scale
keras.utils.set_random_seed(0)
a, b = keras.Input(shape=(4,), name="a"), keras.Input(shape=(2,), name="b")
h = keras.layers.Dense(8, activation="relu", name="h")(keras.layers.Concatenate(name="cat")([a, b]))
score = keras.layers.Dense(1, name="score")(h)
probs = keras.layers.Softmax(name="probs")(keras.layers.Dense(3, name="logits")(h))
keras.Model([a, b], [score, probs], name="two_heads").save(out + "/multi.keras")
seq = keras.Sequential([keras.Input(shape=(2, 3)), keras.layers.Flatten(), keras.layers.Dense(5)], name="seq")
seq.save(out + "/seq.h5")
x = keras.Input(shape=(10, 2), name="signal")
conv = keras.Model(x, keras.layers.Conv1D(4, 3, name="conv")(x), name="conv")
conv.save(out + "/conv.keras")
y = keras.Input(shape=(3,), name="v")
keras.Model(y, Scale(name="scale")(y), name="custom").save(out + "/custom/custom.keras")
'''
HIDDEN = "raise ModuleNotFoundError(\"No module named '{0}'\", name='{0}')\n"


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("keras_models")
    (root / "custom").mkdir()
    (root / "custom" / "layers.py").write_text(LAYERS, encoding="utf-8")
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    subprocess.run([sys.executable, "-c", MAKE, str(root)], check=True, timeout=300, env=env, capture_output=True)
    return root


def _project(root: Path, model: Path, options: str = "") -> Path:
    servable = f"servable:\n  type: keras\n  options:\n    model: {model.name}\n{options}"
    return project(root, servable, {model.name: model.read_bytes()})


def _hide(root: Path, *modules: str) -> str:
    """A PYTHONPATH folder whose packages shadow `modules` with ones that fail to import."""
    for name in modules:
        (root / name).mkdir(parents=True)
        (root / name / "__init__.py").write_text(HIDDEN.format(name), encoding="utf-8")
    return str(root)


def test_functional_model_with_two_inputs_and_two_outputs(tmp_path: Path, models: Path) -> None:
    document = build(_project(tmp_path, models / "multi.keras"))
    run = document["servable"]["methods"]["run"]
    assert [e["shape"] for e in run["input"]["element_types"]] == [[None, 4], [None, 2]]
    assert [e["shape"] for e in run["output"]["element_types"]] == [[None, 1], [None, 3]]
    assert run["output"]["element_types"][1]["description"] == "Output tensor 'probs'"
    assert document["servable"]["options"] == {"output_names": ["score", "probs"]}
    assert document["dlhub"]["dependencies"]["python"]["keras"].startswith("3.")
    assert "cat (Concatenate): [null, 6]" in document["servable"]["model_summary"]
    validate_servable(document)


def test_h5_and_keras_files_are_read_without_keras_or_tensorflow(tmp_path: Path, models: Path) -> None:
    root = _project(tmp_path / "p", models / "seq.h5")
    code = ("import sys, json\nfrom dlhub_manifest.build import build\nd = build(sys.argv[1])\n"
            "print(json.dumps([d['servable']['methods']['run'], sorted(m for m in ('keras', 'tensorflow', 'torch')"
            " if m in sys.modules)]))")
    env = {**os.environ, "PYTHONPATH": _hide(tmp_path / "hidden", "keras", "tensorflow")}
    out = subprocess.run([sys.executable, "-c", code, str(root)], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    run, loaded = json.loads(out.stdout)
    assert run["input"]["shape"] == [None, 2, 3] and run["output"]["shape"] == [None, 5]
    assert loaded == []


def test_layer_without_a_shape_rule_asks_keras_in_the_subprocess(tmp_path: Path, models: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    run = build(_project(tmp_path, models / "conv.keras"))["servable"]["methods"]["run"]
    assert run["input"]["shape"] == [None, 10, 2] and run["output"]["shape"] == [None, 8, 4]


def test_without_keras_that_fallback_says_what_to_install_or_declare(tmp_path: Path, models: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", _hide(tmp_path / "hidden", "keras"))
    with pytest.raises(InvalidManifestError) as info:
        build(_project(tmp_path / "p", models / "conv.keras"))
    (diag,) = info.value.diagnostics
    assert diag.message == "Keras is not installed, so the model cannot be inspected"
    assert diag.hint == ("pip install 'dlhub-manifest[keras]', or build with --no-inspect and declare "
                         "servable.methods.run.input and .output")


def test_custom_layer_must_be_mapped_to_a_project_module(models: Path) -> None:
    root = _project(models / "custom", models / "custom" / "custom.keras")
    with pytest.raises(InvalidManifestError) as info:
        build(root)
    (diag,) = info.value.diagnostics
    assert (diag.field, diag.message) == ("servable.options.custom_objects",
                                          "layer 'scale' is of class 'demo>Scale', which Keras does not provide")
    root = _project(models / "custom", models / "custom" / "custom.keras",
                    "    custom_objects:\n      Scale: layers:Scale\n      Missing: nowhere:Missing\n")
    with pytest.raises(InvalidManifestError) as info:
        build(root)
    (diag,) = info.value.diagnostics
    assert (diag.field, diag.message) == ("servable.options.custom_objects.Missing",
                                          "module 'nowhere' is not in the project")


def test_custom_layer_mapped(models: Path) -> None:
    root = _project(models / "custom", models / "custom" / "custom.keras",
                    "    custom_objects:\n      Scale: layers:Scale\n")
    document = build(root)
    assert document["servable"]["options"]["custom_objects"] == {"Scale": "layers.Scale"}
    assert document["servable"]["methods"]["run"]["output"]["shape"] == [None, 3]


def test_output_names_must_match_the_outputs(tmp_path: Path, models: Path) -> None:
    root = _project(tmp_path, models / "multi.keras", "    output_names: [only_one]\n")
    with pytest.raises(InvalidManifestError) as info:
        build(root)
    assert [d.message for d in info.value.diagnostics] == ["1 output names for a model with 2 outputs"]


def test_unreadable_files(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "model.keras", "w") as archive:
        archive.writestr("metadata.json", "{}")
    root = project(tmp_path, "servable:\n  type: keras\n  options:\n    model: model.keras\n")
    with pytest.raises(InvalidManifestError) as info:
        build(root)
    (diag,) = info.value.diagnostics
    assert diag.field == "servable.options.model"
    assert diag.message.startswith("cannot read the Keras model: not a readable .keras file")


def _dense(name: str, units: int, **config: object) -> dict[str, object]:
    return {"class_name": "Dense", "config": {"name": name, "units": units, **config}}


def test_keras2_sequential_starts_from_the_first_layers_batch_input_shape() -> None:
    from dlhub_manifest.build.inspect.keras_config import analyse

    config = {"class_name": "Sequential", "config": {"name": "old", "layers": [
        _dense("d1", 16, batch_input_shape=[None, 7], dtype="float64"),
        {"class_name": "Reshape", "config": {"name": "r", "target_shape": [4, -1]}},
        {"class_name": "GlobalAveragePooling1D", "config": {"name": "g"}},
        _dense("d2", 2)]}}
    model = analyse(config, "2.13.1")
    assert [(t.name, t.shape, t.dtype) for t in model.inputs] == [("d1", [None, 7], "float64")]
    assert [(t.name, t.shape) for t in model.outputs] == [("d2", [None, 2])]
    assert [shape for _, _, shape in model.layers] == [[None, 16], [None, 4, None], [None, None], [None, 2]]


def test_keras2_functional_follows_inbound_layer_names() -> None:
    from dlhub_manifest.build.inspect.keras_config import analyse

    config = {"class_name": "Model", "config": {
        "name": "f", "input_layers": [["ids", 0, 0]], "output_layers": [["out", 0, 0]],
        "layers": [
            {"class_name": "InputLayer", "name": "ids", "config": {"name": "ids", "batch_input_shape": [None, 12],
                                                                   "dtype": "int32"}, "inbound_nodes": []},
            {"class_name": "Embedding", "name": "emb", "config": {"name": "emb", "output_dim": 8},
             "inbound_nodes": [[["ids", 0, 0, {}]]]},
            {"class_name": "Flatten", "name": "flat", "config": {"name": "flat"},
             "inbound_nodes": [[["emb", 0, 0, {}]]]},
            {"class_name": "Dense", "name": "out", "config": {"name": "out", "units": 1,
                                                              "dtype": {"config": {"name": "mixed_float16"}}},
             "inbound_nodes": [[["flat", 0, 0, {}]]]},
        ]}}
    model = analyse(config)
    assert [(t.shape, t.dtype) for t in model.inputs] == [([None, 12], "int32")]
    assert [(t.shape, t.dtype) for t in model.outputs] == [([None, 1], "float16")]
    assert model.layers[2] == ("flat", "Flatten", [None, 96])


def test_unknown_layer_leaves_the_shape_unknown() -> None:
    from dlhub_manifest.build.inspect.keras_config import analyse

    config = {"class_name": "Sequential", "config": {"name": "s", "build_input_shape": [None, 3], "layers": [
        {"class_name": "LSTM", "config": {"name": "lstm", "units": 4}}, _dense("d", 1)]}}
    model = analyse(config)
    assert model.inputs[0].shape == [None, 3] and model.outputs[0].shape is None
