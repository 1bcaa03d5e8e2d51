"""TensorFlow SavedModels: each serving signature becomes a method (`serving_default` becomes `run`).

Signature names may be any string, method names must be identifiers: `make-const` becomes `make_const`.
"""

from __future__ import annotations

import re
from typing import Any

from dlhub_manifest.build.inspect.base import InspectContext, Inspection, Inspector
from dlhub_manifest.build.inspect.savedmodel import SavedModelError, TensorSpec, read_saved_model
from dlhub_manifest.build.types import Argument, dtype_kind, ndarray
from dlhub_manifest.manifest.paths import PathProblem, resolve_inside

DEFAULT_SIGNATURE = "serving_default"
NO_TENSORS: Argument = {"type": "python object", "python_type": "builtins.NoneType", "description": "no tensors"}


def inspect(ctx: InspectContext) -> Inspection:
    """Methods from the SavedModel's signatures, read without TensorFlow; nothing is loaded or run."""
    opts = ctx.options
    out = Inspection(files={"model": opts["model"]})
    if not ctx.inspect:
        return out
    try:
        model = read_saved_model(resolve_inside(ctx.project, opts["model"], "dir"))
    except (SavedModelError, PathProblem) as e:
        out.diagnostics.append(ctx.problem(("model",), f"cannot read the SavedModel: {e}",
                                           "declare the methods under servable.methods and build with --no-inspect"))
        return out
    wanted = opts.get("signatures") or sorted(model.signatures)
    for i, name in enumerate(wanted):
        if name not in model.signatures:
            out.diagnostics.append(ctx.problem(("signatures", i), f"the SavedModel has no signature {name!r}",
                                               f"choose from: {', '.join(sorted(model.signatures)) or 'none'}"))
            continue
        inputs, outputs = model.signatures[name]
        method = _method_name(name)
        if method in out.methods:
            out.diagnostics.append(ctx.problem(("signatures",), f"signature {name!r} would be method {method!r}, "
                                               "which another signature already is",
                                               "choose the signatures to serve with servable.options.signatures"))
            continue
        out.methods[method] = _method(name, inputs, outputs)
    if model.tensorflow_version:
        out.dependencies["tensorflow"] = model.tensorflow_version
    out.model_summary = "SavedModel signatures: " + ", ".join(sorted(model.signatures))
    return out


def _method_name(signature: str) -> str:
    """`run` for the default signature, else the name made an identifier (what DLHub method names are)."""
    if signature == DEFAULT_SIGNATURE:
        return "run"
    name = re.sub(r"[^A-Za-z0-9_]", "_", signature)
    return f"_{name}" if name[:1].isdigit() else name


def _method(name: str, inputs: list[TensorSpec], outputs: list[TensorSpec]) -> dict[str, Any]:
    return {"input": _argument(inputs), "output": _argument(outputs), "parameters": {},
            "method_details": {"method_name": name, "input_nodes": [s.node for s in inputs],
                               "output_nodes": [s.node for s in outputs]}}


def _argument(specs: list[TensorSpec]) -> Argument:
    """One tensor is an ndarray (or a scalar); several are a tuple in key order (dlhub_sdk sorted them too)."""
    blocks = [_tensor(s) for s in specs]
    if not blocks:  # a signature without inputs (or outputs): DLHub has no empty tuple
        return dict(NO_TENSORS)
    if len(blocks) == 1:
        return blocks[0]
    return {"type": "tuple", "description": "Tensors: " + ", ".join(s.key for s in specs), "element_types": blocks}


def _tensor(spec: TensorSpec) -> Argument:
    kind = dtype_kind(spec.dtype)
    if spec.shape == [] and kind == "python object":  # a dtype DLHub has no word for (qint8, resource...)
        return {"type": kind, "python_type": "tensorflow.Tensor", "description": f"{spec.key} ({spec.dtype})"}
    if spec.shape == []:
        return {"type": kind, "description": spec.key}
    return ndarray(spec.shape if spec.shape is not None else [None], kind, spec.key)


KIND = Inspector("tensorflow.TensorFlowServable", "TensorFlow Model", inspect)
