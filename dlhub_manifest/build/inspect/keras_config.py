"""Read a saved Keras model's own configuration without Keras or TensorFlow, and infer its tensor shapes.

A `.keras` file is a zip holding `config.json` and `metadata.json`; an `.h5` file carries the same JSON in
its `model_config` attribute. Both say which Keras version saved the model (`keras_version`); `.h5` files
(and perhaps a future `metadata.json`) also name the backend it ran on. Shapes follow the layer graph: inputs
from `InputLayer`, then a rule per common layer class. A layer without a rule leaves the shape unknown
(`None`), and the caller falls back.
"""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlhub_manifest.errors import InputError

Shape = list[int | None]
MAX_CONFIG_BYTES = 32 * 1024 * 1024
_SAME_SHAPE = frozenset({
    "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "Dropout", "SpatialDropout1D",
    "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout", "AlphaDropout",
    "BatchNormalization", "LayerNormalization", "UnitNormalization", "GroupNormalization", "Normalization",
    "Rescaling", "ActivityRegularization", "Masking", "Identity",
})
_ELEMENTWISE = frozenset({"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"})
_GLOBAL_POOL = frozenset({"GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
                          "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D"})


class KerasConfigError(InputError):
    """The file is not a readable Keras model."""


@dataclass
class Tensor:
    """A model input or output: its layer's name, shape (None when unknown) and dtype."""

    name: str
    shape: Shape | None
    dtype: str = "float32"


@dataclass
class KerasModel:
    """What the saved configuration says about a model."""

    name: str
    kind: str
    keras_version: str | None
    inputs: list[Tensor] = field(default_factory=list)
    outputs: list[Tensor] = field(default_factory=list)
    layers: list[tuple[str, str, Shape | None]] = field(default_factory=list)
    custom_classes: dict[str, str] = field(default_factory=dict)  # layer name -> class not from Keras
    backend: str | None = None  # the backend it was saved with, when the file says (the deployer may pick another)


def read_model(path: Path) -> KerasModel:
    """Read `.keras` (zip) or `.h5` (HDF5 attribute) configuration and analyse it."""
    if path.is_dir():
        raise KerasConfigError("is a directory; Keras models are .keras or .h5 files "
                               "(a TensorFlow SavedModel directory is servable type `tensorflow`)")
    try:
        config, saved = _read_h5(path) if path.suffix.lower() in (".h5", ".hdf5", ".hdf", ".hd5") else _read_zip(path)
    except RecursionError as e:
        raise KerasConfigError("the saved configuration nests too deeply to be a Keras model") from e
    if not isinstance(config, dict) or "class_name" not in config:
        raise KerasConfigError("the saved configuration is not a Keras model description")
    try:
        model = analyse(config, saved.get("keras_version"))
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, RecursionError) as e:
        # the file is data from anywhere: a field of the wrong kind is a broken model, not our bug
        raise KerasConfigError(f"the saved configuration is malformed ({type(e).__name__}: {str(e)[:200]}); "
                               "save the model again with Keras") from e
    model.backend = saved.get("backend")
    return model


def _read_zip(path: Path) -> tuple[Any, dict[str, str]]:
    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(_member(archive, "config.json"))
            meta = json.loads(_member(archive, "metadata.json")) if "metadata.json" in archive.namelist() else {}
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as e:
        raise KerasConfigError(f"not a readable .keras file ({e})") from e
    return config, _saved_with(meta if isinstance(meta, dict) else {})


def _saved_with(meta: Any) -> dict[str, str]:
    """`keras_version` and `backend` as the file gives them; a value that is not a non-empty string is ignored
    (it would otherwise reach the document as a dependency pin that is not a string)."""
    out = {}
    for key in ("keras_version", "backend"):
        value = meta.get(key)
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        if isinstance(text, str) and text.strip() and text.isprintable():
            out[key] = text.strip()
    return out


def _member(archive: zipfile.ZipFile, name: str) -> bytes:
    """A zip member, refusing one that would expand past MAX_CONFIG_BYTES (a zip bomb)."""
    if archive.getinfo(name).file_size > MAX_CONFIG_BYTES:
        raise KerasConfigError(f"{name} is larger than {MAX_CONFIG_BYTES} bytes")
    return archive.read(name)


def _read_h5(path: Path) -> tuple[Any, dict[str, str]]:
    try:
        import h5py
    except ModuleNotFoundError as e:
        raise KerasConfigError("reading .h5 files needs h5py: pip install 'dlhub-manifest[keras]'") from e
    try:
        with h5py.File(path, "r") as fh:
            raw, saved = fh.attrs.get("model_config"), _saved_with(fh.attrs)
    except OSError as e:
        raise KerasConfigError(f"not a readable HDF5 file ({e})") from e
    if raw is None:
        raise KerasConfigError("the .h5 file holds no model_config (weights only?); save the whole model")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)
        return json.loads(text), saved
    except ValueError as e:
        raise KerasConfigError(f"the model_config of the .h5 file is not JSON ({e})") from e


def analyse(config: dict[str, Any], version: str | None = None) -> KerasModel:
    """Inputs, outputs and per-layer shapes of a Sequential or Functional model configuration."""
    body = config.get("config", {})
    model = KerasModel(str(body.get("name", "model")), str(config["class_name"]), version)
    layers = body.get("layers", [])
    shapes: dict[str, Shape | None] = {}
    previous: Shape | None = _sequential_start(body, layers) if model.kind == "Sequential" else None
    for layer in layers:
        name, cls = _layer_name(layer), str(layer.get("class_name"))
        out = _layer_output(layer, shapes, previous)
        shapes[name] = out
        previous = out
        model.layers.append((name, cls, out))
        if _is_custom(layer):
            model.custom_classes[name] = str(layer.get("registered_name") or cls)
    _ends(model, body, layers, shapes)
    return model


def _sequential_start(body: dict[str, Any], layers: list[dict[str, Any]]) -> Shape | None:
    build = body.get("build_input_shape")
    if isinstance(build, list):
        return build
    first = layers[0].get("config", {}) if layers else {}
    return first.get("batch_input_shape") or first.get("batch_shape")


def _layer_name(layer: dict[str, Any]) -> str:
    return str(layer.get("name") or layer.get("config", {}).get("name", ""))


def _is_custom(layer: dict[str, Any]) -> bool:
    """Keras 3 marks classes it does not ship: a `registered_name` or a module outside Keras."""
    module = layer.get("module")
    return bool(layer.get("registered_name")) or (isinstance(module, str) and not module.startswith("keras"))


def _layer_output(layer: dict[str, Any], shapes: dict[str, Shape | None], previous: Shape | None) -> Shape | None:
    cfg = layer.get("config", {})
    cls = layer.get("class_name")
    if cls == "InputLayer":
        shape: Shape | None = cfg.get("batch_shape") or cfg.get("batch_input_shape")
        return shape
    inputs = _layer_inputs(layer, shapes, previous)
    if inputs is None or any(s is None for s in inputs):
        return None
    return infer(str(cls), cfg, inputs)  # type: ignore[arg-type]


def _layer_inputs(layer: dict[str, Any], shapes: dict[str, Shape | None],
                  previous: Shape | None) -> list[Shape | None] | None:
    """Shapes entering a layer: its build_config, the tensors of its Keras 3 node, its Keras 2 inbound layers."""
    built = layer.get("build_config", {}).get("input_shape")
    if isinstance(built, list) and built:
        return built if isinstance(built[0], list) else [built]
    nodes = layer.get("inbound_nodes") or []
    if nodes and isinstance(nodes[0], dict):
        tensors = list(_keras3_tensors(nodes[0].get("args", [])))
        return [t.get("shape") for t in tensors] or None
    if nodes and isinstance(nodes[0], list):
        return [shapes.get(str(ref[0])) for ref in nodes[0] if isinstance(ref, list) and ref]
    return [previous] if previous is not None else None


def _keras3_tensors(value: Any) -> Any:
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        yield value.get("config", {})
    elif isinstance(value, list):
        for item in value:
            yield from _keras3_tensors(item)


def infer(cls: str, cfg: dict[str, Any], inputs: list[Shape]) -> Shape | None:
    """Output shape of one layer from its input shapes, for the common layer classes; None otherwise."""
    first = list(inputs[0])
    if cls in _SAME_SHAPE or cls in _ELEMENTWISE:
        return first
    if cls == "Dense":
        return [*first[:-1], int(cfg["units"])]
    if cls == "Flatten":
        rest = first[1:]
        return [first[0], math.prod(rest) if all(isinstance(d, int) for d in rest) else None]  # type: ignore[arg-type]
    if cls == "Reshape":
        return [first[0], *[None if d == -1 else int(d) for d in cfg.get("target_shape", [])]]
    if cls == "Embedding":
        return [*first, int(cfg["output_dim"])]
    if cls in _GLOBAL_POOL and cfg.get("data_format", "channels_last") == "channels_last":
        return [first[0], first[-1]]
    if cls == "Concatenate":
        return _concatenate(inputs, int(cfg.get("axis", -1)))
    return None


def _concatenate(inputs: list[Shape], axis: int) -> Shape | None:
    sizes = [s[axis] for s in inputs]
    out = list(inputs[0])
    out[axis] = sum(sizes) if all(isinstance(n, int) for n in sizes) else None  # type: ignore[arg-type]
    return out


def _ends(model: KerasModel, body: dict[str, Any], layers: list[dict[str, Any]],
          shapes: dict[str, Shape | None]) -> None:
    """Model inputs and outputs: the listed input/output layers (Functional), else the first and last layer."""
    if not layers:
        return
    dtypes = {_layer_name(layer): _dtype(layer.get("config", {})) for layer in layers}
    ins, outs = _refs(body.get("input_layers")), _refs(body.get("output_layers"))
    if ins and outs:
        model.inputs = [Tensor(n, shapes.get(n), dtypes.get(n, "float32")) for n in ins]
        model.outputs = [Tensor(n, shapes.get(n), dtypes.get(n, "float32")) for n in outs]
        return
    first, last = _layer_name(layers[0]), _layer_name(layers[-1])
    model.inputs = [Tensor(first, _sequential_start(body, layers), dtypes[first])]
    model.outputs = [Tensor(last, shapes.get(last), dtypes[last])]


def _refs(value: Any) -> list[str]:
    """`[["a", 0, 0], ["b", 0, 0]]` or Keras 3's single `["a", 0, 0]` -> layer names."""
    if not isinstance(value, list) or not value:
        return []
    if isinstance(value[0], str):
        return [value[0]]
    return [str(v[0]) for v in value if isinstance(v, list) and v]


def _dtype(cfg: dict[str, Any]) -> str:
    """A layer's dtype: a string (InputLayer, Keras 2) or a DTypePolicy whose name may be `mixed_float16`."""
    dtype = cfg.get("dtype", "float32")
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name", "float32")
    return str(dtype).removeprefix("mixed_")
