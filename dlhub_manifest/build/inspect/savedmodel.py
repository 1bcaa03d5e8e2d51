"""Signatures of a TensorFlow SavedModel, read from `saved_model.pb` with the wire reader (no TensorFlow).

Field numbers are those of TensorFlow's `saved_model.proto`, `meta_graph.proto` and `tensor_shape.proto`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from dlhub_manifest.build.inspect import protowire as pw
from dlhub_manifest.build.inspect.protowire import ProtoError
from dlhub_manifest.errors import InputError

MAX_PB_BYTES = 512 * 1024 * 1024
# tensorflow/core/framework/types.proto DataType values -> numpy-style names
DTYPES = {1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8", 7: "string", 8: "complex64",
          9: "int64", 10: "bool", 14: "bfloat16", 17: "uint16", 18: "complex128", 19: "float16", 22: "uint32",
          23: "uint64"}


class SavedModelError(InputError):
    """The directory does not hold a readable SavedModel."""


@dataclass
class TensorSpec:
    """One input or output of a signature: its key, graph node, dtype and shape (None: unknown rank)."""

    key: str
    node: str
    dtype: str
    shape: list[int | None] | None


@dataclass
class SavedModel:
    """The serving meta graph's signatures and the TensorFlow version that wrote them."""

    tensorflow_version: str
    signatures: dict[str, tuple[list[TensorSpec], list[TensorSpec]]] = field(default_factory=dict)


def read_saved_model(directory: Path) -> SavedModel:
    """Parse `directory/saved_model.pb`; signatures whose names start with `__` are TensorFlow's own."""
    pb = directory / "saved_model.pb"
    try:
        if pb.stat().st_size > MAX_PB_BYTES:
            raise SavedModelError(f"saved_model.pb is larger than {MAX_PB_BYTES} bytes")
        data = pb.read_bytes()
    except FileNotFoundError:
        raise SavedModelError("no saved_model.pb in the directory; save it with tf.saved_model.save") from None
    try:
        graph = _serving_graph(pw.messages(data, 2))
        info = pw.first(graph, 1) or b""
        model = SavedModel(pw.text(info, 5))
        for name, sig in sorted(pw.string_map(graph, 5).items()):
            if not name.startswith("__"):
                model.signatures[name] = (_specs(sig, 1), _specs(sig, 2))
    except ProtoError as e:
        raise SavedModelError(f"saved_model.pb is not a valid SavedModel ({e})") from e
    return model


def _serving_graph(graphs: list[bytes]) -> bytes:
    """The meta graph tagged `serve` (the one TF Serving loads), else the first."""
    if not graphs:
        raise SavedModelError("saved_model.pb holds no meta graph")
    for graph in graphs:
        tags = [t.decode("utf-8", "replace") for t in pw.messages(pw.first(graph, 1) or b"", 4)]
        if "serve" in tags:
            return graph
    return graphs[0]


def _specs(signature: bytes, number: int) -> list[TensorSpec]:
    """TensorInfo map `number` (1 inputs, 2 outputs), sorted by key for a deterministic order."""
    specs = []
    for key, info in sorted(pw.string_map(signature, number).items()):
        shape_pb = pw.first(info, 3) or b""
        dims: list[int | None] | None = [_dim(d) for d in pw.messages(shape_pb, 2)]
        if pw.integer(shape_pb, 3):  # unknown_rank
            dims = None
        dtype = pw.integer(info, 2)
        specs.append(TensorSpec(key, pw.text(info, 1), DTYPES.get(dtype, f"dtype {dtype}"), dims))
    return specs


def _dim(dim: bytes) -> int | None:
    size = pw.integer(dim, 1, -1)
    return None if size < 0 else size
