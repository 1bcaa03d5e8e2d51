"""How each dlhub_sdk shim's servable block reads back into a manifest's `servable.type` and `options`.

Values the document does not give (or gives in a form the manifest schema refuses) become placeholders with a
FILL IN note, so the draft always validates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dlhub_manifest.citation.to_manifest import CHECK, FILL, Draft

Options = dict[str, Any]


@dataclass(frozen=True)
class Shim:
    """What a shim reader gets: the document's servable options and methods, its files by role, and the draft."""

    options: Options
    methods: dict[str, Any]
    files: dict[str, Any]
    draft: Draft


IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _role_file(s: Shim, key: str, roles: tuple[str, ...], default: str) -> str:
    """The file the document gives for the first of `roles`, else `default` with a FILL IN note at option `key`."""
    for role in roles:
        value = s.files.get(role)
        if isinstance(value, str) and value.strip():
            return value
    s.draft.note(("servable", "options", key), FILL + f"the document names no {roles[0]} file")
    return default


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def _run(methods: dict[str, Any]) -> dict[str, Any]:
    run = methods.get("run")
    return run if isinstance(run, dict) else {}


def _shape(argument: Any) -> list[Any] | None:
    """The argument's shape when it is one (dimensions of at least 1, or null for any size)."""
    shape = argument.get("shape") if isinstance(argument, dict) else None
    if isinstance(shape, list) and shape and all(d is None or _count(d) for d in shape):
        return list(shape)
    return None


def _sklearn(s: Shim) -> tuple[str, Options]:
    options, methods, draft = s.options, s.methods, s.draft
    out: Options = {"model": _role_file(s, "model", ("model",), "model.pkl")}
    if options.get("serialization_method") in ("pickle", "joblib"):
        out["serialization"] = options["serialization_method"]
    shape = _shape(_run(methods).get("input"))
    columns = shape[1] if shape and len(shape) == 2 else None
    out["n_input_columns"] = columns or 1
    if columns is None:
        draft.note(("servable", "options", "n_input_columns"), FILL + "the document does not give the number of "
                   "input columns")
    classes = options.get("classes")
    if isinstance(classes, list) and classes and all(isinstance(c, (str, int, float)) for c in classes):
        out["classes"] = list(classes)
    return "sklearn", out


def _static(s: Shim) -> tuple[str, Options]:
    methods, draft = s.methods, s.draft
    details = _run(methods).get("method_details") or {}
    module, function = details.get("module"), details.get("method_name")
    named = isinstance(module, str) and _MODULE.match(module) and isinstance(function, str) and \
        IDENTIFIER.match(function)
    out: Options = {"function": f"{module}:{function}" if named else "app:run"}
    if not named:
        draft.note(("servable", "options", "function"), FILL + "the document does not name the function")
    if details.get("autobatch") is True:
        out["autobatch"] = True
    return "static_method", out


def _class(s: Shim) -> tuple[str, Options]:
    options, methods, draft = s.options, s.methods, s.draft
    details = _run(methods).get("method_details") or {}
    method = details.get("method_name")
    named = isinstance(method, str) and IDENTIFIER.match(method)
    out: Options = {"object": _role_file(s, "object", ("pickle", "model"), "object.pkl"),
                    "method": method if named else "run"}
    if not named:
        draft.note(("servable", "options", "method"), FILL + "the document does not name the method")
    if options.get("serialization_method") in ("pickle", "joblib"):
        out["serialization"] = options["serialization_method"]
    return "class_method", out


_TORCH_TYPES = {"float": "float32", "integer": "int64", "boolean": "bool"}
_TORCH_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


def _torch(s: Shim) -> tuple[str, Options]:
    options, methods, draft = s.options, s.methods, s.draft
    run = _run(methods)
    out: Options = {"model": _role_file(s, "model", ("model",), "model.pt")}
    if options.get("format") in ("module", "torchscript"):
        out["format"] = options["format"]
    for side in ("input", "output"):
        shape = _shape(run.get(side))
        out[f"{side}_shape"] = shape or [None]
        if not shape:
            draft.note(("servable", "options", f"{side}_shape"), FILL + f"the document gives no {side} shape")
        item = ((run.get(side) or {}).get("item_type") or {}).get("type")
        dtype = options.get(f"{side}_type") or _TORCH_TYPES.get(str(item))
        if dtype in _TORCH_DTYPES:
            out[f"{side}_type"] = dtype
    return "pytorch", out


def _keras(s: Shim) -> tuple[str, Options]:
    options, files, draft = s.options, s.files, s.draft
    out: Options = {"model": _role_file(s, "model", ("model",), "model.keras")}
    if isinstance(files.get("arch"), str):
        draft.header.append(CHECK + f"the document's separate architecture file {files['arch']} is shipped as a "
                            "file; dlhub-manifest reads the architecture from the model file")
    names = options.get("output_names")
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        out["output_names"] = list(names)
    custom = options.get("custom_objects")
    if isinstance(custom, dict) and custom:  # dlhub_sdk wrote module.attr; the manifest writes module:attr
        out["custom_objects"] = {str(k): ":".join(str(v).rsplit(".", 1)) for k, v in custom.items()}
    return "keras", out


def _tensorflow(s: Shim) -> tuple[str, Options]:
    methods = s.methods
    out: Options = {"model": _role_file(s, "model", ("model",), "saved_model")}
    names = [(m.get("method_details") or {}).get("method_name") for m in methods.values() if isinstance(m, dict)]
    if names and all(isinstance(n, str) for n in names):
        out["signatures"] = sorted(str(n) for n in names)
    return "tensorflow", out


SHIMS: dict[str, Callable[[Shim], tuple[str, Options]]] = {
    "sklearn.ScikitLearnServable": _sklearn,
    "python.PythonStaticMethodServable": _static,
    "python.PythonClassMethodServable": _class,
    "torch.TorchServable": _torch,
    "keras.KerasServable": _keras,
    "tensorflow.TensorFlowServable": _tensorflow,
}
