"""TensorFlow SavedModel inspector: signatures read from saved_model.pb by our wire reader, no TensorFlow."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dlhub_oracle import validate_servable
from test_build_support import copy_example, project

from dlhub_manifest.build import build
from dlhub_manifest.build.inspect.protowire import ProtoError, fields
from dlhub_manifest.errors import InvalidManifestError

# A real SavedModel made by TensorFlow (in a subprocess: its import is slow and chatty).
MAKE = '''
import sys
import tensorflow as tf

class Stats(tf.Module):
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="values"),
                                  tf.TensorSpec([], tf.int64, name="power")])
    def stats(self, values, power):
        return {"total": tf.reduce_sum(values, axis=1), "count": tf.shape(values, out_type=tf.int64)[0],
                "powered": tf.pow(values, tf.cast(power, tf.float32))}

m = Stats()
tf.saved_model.save(m, sys.argv[1], signatures={"serving_default": m.stats})
'''


@pytest.fixture(scope="module")
def stats_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("tf") / "saved_model"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run([sys.executable, "-c", MAKE, str(target)], check=True, timeout=300, env=env, capture_output=True)
    return target


def _project(root: Path, saved: Path, options: str = "") -> Path:
    project(root, f"servable:\n  type: tensorflow\n  options:\n    model: saved_model\n{options}")
    shutil.copytree(saved, root / "saved_model")
    return root


def test_example_signatures_become_methods_with_serving_default_as_run(tmp_path: Path) -> None:
    document = build(copy_example("tensorflow", tmp_path))
    methods = document["servable"]["methods"]
    assert list(methods) == ["run", "embed"]
    assert methods["run"]["method_details"] == {"method_name": "serving_default",
                                                "input_nodes": ["serving_default_features:0"],
                                                "output_nodes": ["StatefulPartitionedCall_1:0"]}
    assert methods["run"]["input"] == {"type": "ndarray", "shape": [None, 4], "item_type": {"type": "float"},
                                       "description": "features"}
    assert methods["embed"]["output"]["shape"] == [None, 3]
    assert document["dlhub"]["dependencies"]["python"] == {"tensorflow": "2.21.0"}
    assert document["dlhub"]["files"] == {"model": "saved_model"}
    validate_servable(document)


def test_several_tensors_make_a_tuple_in_key_order_and_scalars_stay_scalars(tmp_path: Path, stats_model: Path) -> None:
    run = build(_project(tmp_path, stats_model))["servable"]["methods"]["run"]
    assert run["input"] == {"type": "tuple", "description": "Tensors: power, values", "element_types": [
        {"type": "integer", "description": "power"},
        {"type": "ndarray", "shape": [None, 3], "item_type": {"type": "float"}, "description": "values"}]}
    assert [e["description"] for e in run["output"]["element_types"]] == ["count", "powered", "total"]
    assert run["output"]["element_types"][0] == {"type": "integer", "description": "count"}
    assert run["output"]["element_types"][2]["shape"] == [None]


def test_choosing_signatures(tmp_path: Path) -> None:
    target = copy_example("tensorflow", tmp_path)
    manifest = target / "dlhub.yaml"
    manifest.write_text(manifest.read_text("utf-8") + "    signatures: [embed, nope]\n", "utf-8")
    with pytest.raises(InvalidManifestError) as info:
        build(target)
    found = [(d.field, d.message) for d in info.value.diagnostics]
    assert found == [("servable.options.signatures[1]", "the SavedModel has no signature 'nope'")]
    manifest.write_text(manifest.read_text("utf-8").replace("[embed, nope]", "[embed]"), "utf-8")
    with pytest.raises(InvalidManifestError) as info:
        build(target)
    assert [d.message for d in info.value.diagnostics] == [
        "method 'run' has no input or output: inspection could not find it"]


def test_damaged_saved_model(tmp_path: Path) -> None:
    target = copy_example("tensorflow", tmp_path)
    pb = target / "saved_model" / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[:200])
    with pytest.raises(InvalidManifestError) as info:
        build(target)
    (diag,) = info.value.diagnostics
    assert diag.field == "servable.options.model"
    assert diag.message.startswith("cannot read the SavedModel: saved_model.pb is not a valid SavedModel")


@pytest.mark.parametrize("data", [b"\x0a\x05abc", b"\x08\xff\xff", b"\x0b", b"\x09\x00"])
def test_wire_reader_refuses_truncated_or_unknown_input(data: bytes) -> None:
    with pytest.raises(ProtoError):
        list(fields(data))


def test_wire_reader_reads_varints_and_nested_messages() -> None:
    assert list(fields(b"\x08\x96\x01\x12\x02hi")) == [(1, 0, 150), (2, 2, b"hi")]
