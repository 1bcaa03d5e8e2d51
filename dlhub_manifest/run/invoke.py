"""(In the servable's subprocess) call one method the way DLHub's shims did, and return its output as JSON.

`sklearn`: the estimator's method on a numpy array; `pytorch`: the module on a tensor of the declared dtype;
`keras`: `model.predict`; `tensorflow`: the SavedModel signature, inputs by key order; `static_method`: the
function; `class_method`: the method of the unpickled object. Parameters are keyword arguments. Imports only
what the servable's type needs: this may run in an environment holding nothing else.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from typing import Any

Args = dict[str, Any]


def probe(args: Args) -> dict[str, Any]:
    """Run the method and return `{"output": ...}` with arrays and tensors as nested lists."""
    return {"output": jsonable(CALLERS[args["kind"]](args))}


def _details(args: Args) -> dict[str, Any]:
    details: dict[str, Any] = args["method"].get("method_details") or {}
    return details


def _call_python(fn: Callable[..., Any], args: Args) -> Any:
    """A Python callable: the input as one argument, unpacked (several parameters) or once per item (autobatch)."""
    details, value, params = _details(args), args["input"], args["parameters"]
    if details.get("autobatch"):
        return [fn(item, **params) for item in value]
    if details.get("unpack"):
        return fn(*value, **params)
    return fn(value, **params)


def _static_method(args: Args) -> Any:
    details = _details(args)
    fn = getattr(importlib.import_module(details["module"]), details["method_name"])
    return _call_python(fn, args)


def _class_method(args: Args) -> Any:
    from dlhub_manifest.build.inspect.loaders import load_object

    obj = load_object(args["files"]["pickle"], args["options"].get("serialization_method", "pickle"))
    return _call_python(getattr(obj, _details(args)["method_name"]), args)


def _sklearn(args: Args) -> Any:
    import numpy as np

    from dlhub_manifest.build.inspect.loaders import load_object

    model = load_object(args["files"]["model"], args["options"].get("serialization_method", "pickle"))
    return getattr(model, _details(args).get("method_name", "predict"))(np.asarray(args["input"]), **args["parameters"])


def _pytorch(args: Args) -> Any:
    import torch

    options = args["options"]
    if options.get("format") == "torchscript":
        model = torch.jit.load(args["files"]["model"], map_location="cpu")  # type: ignore[no-untyped-call]
    else:
        model = torch.load(args["files"]["model"], map_location="cpu", weights_only=False)
    model.eval()
    tensor = torch.tensor(args["input"], dtype=getattr(torch, options.get("input_type", "float32")))
    with torch.no_grad():
        return model(tensor, **args["parameters"])


def _keras(args: Args) -> Any:
    if args.get("backend"):
        os.environ.setdefault("KERAS_BACKEND", args["backend"])  # the one the model was saved with, unless set
    import keras
    import numpy as np

    custom = {name: _attribute(spec) for name, spec in (args["options"].get("custom_objects") or {}).items()}
    model = keras.saving.load_model(args["files"]["model"], custom_objects=custom, compile=False, safe_mode=True)
    value = args["input"]
    is_tuple = args["method"].get("input", {}).get("type") == "tuple"
    data = [np.asarray(v, dtype="float32") for v in value] if is_tuple else np.asarray(value, dtype="float32")
    return model.predict(data, verbose=0, **args["parameters"])


def _tensorflow(args: Args) -> Any:
    import tensorflow as tf

    loaded = tf.saved_model.load(args["files"]["model"])
    fn = loaded.signatures[_details(args)["method_name"]]
    specs = fn.structured_input_signature[1]
    keys = sorted(specs)
    values = args["input"] if len(keys) > 1 else [args["input"]]
    feed = {key: tf.constant(v, dtype=specs[key].dtype) for key, v in zip(keys, values, strict=True)}
    result = fn(**feed)
    outputs = [result[k] for k in sorted(result)]
    return outputs[0] if len(outputs) == 1 else outputs


def _attribute(spec: str) -> Any:
    """`module.Class` or `module:Class` -> the class."""
    module, _, name = spec.replace(":", ".").rpartition(".")
    return getattr(importlib.import_module(module), name)


def jsonable(value: Any) -> Any:
    """Arrays and tensors as nested lists, numpy scalars as numbers, containers recursively."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    for unwrap in ("detach", "cpu", "numpy"):  # torch tensors, TensorFlow eager tensors
        method = getattr(value, unwrap, None)
        if callable(method) and type(value).__module__.split(".")[0] in ("torch", "tensorflow"):
            value = method()
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return jsonable(tolist())
    return repr(value)


CALLERS: dict[str, Callable[[Args], Any]] = {
    "sklearn": _sklearn, "pytorch": _pytorch, "keras": _keras, "tensorflow": _tensorflow,
    "static_method": _static_method, "class_method": _class_method,
}
