"""SavedModel signatures that built documents our schema refused (found by the builder's own schema check):
a signature named like `make-const`, one without inputs, and tensors of a dtype DLHub has no word for.

The SavedModel is written by hand here (a few protobuf fields), so no TensorFlow is needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_build_support import project

from dlhub_manifest.build import build, check_document
from dlhub_manifest.errors import InvalidManifestError

FLOAT, QINT8 = 1, 11  # tensorflow DataType values


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, value: int | str | bytes) -> bytes:
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    data = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _entry(number: int, key: str, value: bytes) -> bytes:
    return _field(number, _field(1, key) + _field(2, value))


def _tensor(node: str, dtype: int, dims: list[int]) -> bytes:
    shape = b"".join(_field(2, _field(1, d)) for d in dims)
    return _field(1, node) + _field(2, dtype) + _field(3, shape)


def _signature(inputs: dict[str, bytes], outputs: dict[str, bytes]) -> bytes:
    return (b"".join(_entry(1, k, v) for k, v in inputs.items())
            + b"".join(_entry(2, k, v) for k, v in outputs.items()))


def _saved_model(root: Path, signatures: dict[str, bytes]) -> Path:
    info = _field(4, "serve") + _field(5, "2.21.0")
    graph = _field(1, info) + b"".join(_entry(5, name, sig) for name, sig in signatures.items())
    (root / "saved_model").mkdir(parents=True)
    (root / "saved_model" / "saved_model.pb").write_bytes(_field(1, 1) + _field(2, graph))
    return project(root, "servable:\n  type: tensorflow\n  options:\n    model: saved_model\n")


DEFAULT = _signature({"x": _tensor("in_x:0", FLOAT, [3])}, {"y": _tensor("out_y:0", FLOAT, [3])})


def test_odd_signatures_build_a_document_our_schema_accepts(tmp_path: Path) -> None:
    document = build(_saved_model(tmp_path, {
        "serving_default": DEFAULT,
        "make-const": _signature({}, {"value": _tensor("out_v:0", FLOAT, [])}),
        "quant": _signature({"q": _tensor("in_q:0", QINT8, [])}, {"q": _tensor("out_q:0", QINT8, [2])}),
    }))
    assert check_document(document) == []
    methods = document["servable"]["methods"]
    assert list(methods) == ["run", "make_const", "quant"]
    assert methods["make_const"]["method_details"]["method_name"] == "make-const"  # the signature to call
    assert methods["make_const"]["input"] == {"type": "python object", "python_type": "builtins.NoneType",
                                              "description": "no tensors"}
    assert methods["quant"]["input"] == {"type": "python object", "python_type": "tensorflow.Tensor",
                                         "description": "q (dtype 11)"}
    assert methods["quant"]["output"] == {"type": "ndarray", "shape": [2], "description": "q"}


def test_two_signatures_that_would_be_the_same_method_are_a_located_problem(tmp_path: Path) -> None:
    with pytest.raises(InvalidManifestError) as info:
        build(_saved_model(tmp_path, {"serving_default": DEFAULT, "a-b": DEFAULT, "a_b": DEFAULT}))
    (problem,) = info.value.diagnostics
    assert problem.field == "servable.options.signatures"
    assert problem.message == "signature 'a_b' would be method 'a_b', which another signature already is"
