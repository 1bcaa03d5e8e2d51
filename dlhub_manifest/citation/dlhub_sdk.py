"""`dlhub_sdk` servable documents (what `to_dict()` wrote, or what the DLHub service returned) -> a manifest draft.

The servable block is read back into `servable.type`/`options` per shim; every method is declared with the
inputs and outputs the document states, so a rebuild gives the same signatures even before inspection.
`dlhub.version` is the SDK's own version, never the servable's, so it is not imported.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlhub_manifest.citation.facts import facts_from_datacite
from dlhub_manifest.citation.to_manifest import CHECK, FILL, Draft, manifest_fields

Options = dict[str, Any]
_PUBLIC = ["public"]


@dataclass(frozen=True)
class Shim:
    """What a shim reader gets: the document's servable options and methods, its files by role, and the draft."""

    options: Options
    methods: dict[str, Any]
    files: dict[str, Any]
    draft: Draft


def unwrap(data: Any) -> Any:
    """The servable document inside a DLHub service answer (search `gmeta` entries, `content`, or a list of one)."""
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if isinstance(data, dict) and isinstance(data.get("gmeta"), list) and data["gmeta"]:
        data = data["gmeta"][0]
        if isinstance(data, dict) and isinstance(data.get("entries"), list) and data["entries"]:
            data = data["entries"][0]
    if isinstance(data, dict) and isinstance(data.get("content"), dict) and "servable" not in data:
        data = data["content"]
    return data


def is_document(data: Any) -> bool:
    """Whether `data` (unwrapped) looks like a DLHub servable document."""
    return isinstance(data, dict) and isinstance(data.get("servable"), dict) and "dlhub" in data


def draft_from_document(document: dict[str, Any], project: Path) -> Draft:
    """The manifest draft for a servable document; `project` is where the model files should be."""
    dlhub, servable = document.get("dlhub") or {}, document["servable"]
    datacite = document.get("datacite") or {}
    facts = facts_from_datacite(datacite)
    domains = tuple(dlhub.get("domains") or ())
    keywords = tuple(k for k in facts.keywords if k not in domains)
    found = document.get("provenance")
    provenance: dict[str, Any] = found if isinstance(found, dict) else {}
    facts = dataclasses.replace(facts, name=dlhub.get("name"), domains=domains, keywords=keywords,
                                repository=_text(provenance.get("repository")), commit=_text(provenance.get("commit")))
    draft = Draft()
    manifest_fields(facts, draft)
    if not facts.version:
        draft.header.append(FILL + "set `version:` (the document's dlhub.version "
                            f"{dlhub.get('version')!r} is the version of the tool that wrote it)")
    if dlhub.get("visible_to") and dlhub["visible_to"] != _PUBLIC:
        draft.data["visible_to"] = list(dlhub["visible_to"])
    _servable(servable, dlhub.get("files") or {}, draft)
    _files(dlhub.get("files") or {}, project, draft)
    pins = (dlhub.get("dependencies") or {}).get("python") or {}
    if pins:
        draft.data["dependencies"] = {"python": {str(k): str(v) for k, v in pins.items()}}
        draft.note(("dependencies",), CHECK + "pins copied from the document; the build warns when the model "
                   "was saved with another version")
    return draft


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _servable(servable: dict[str, Any], files: dict[str, Any], draft: Draft) -> None:
    shim = str(servable.get("shim", ""))
    methods = servable.get("methods") or {}
    reader = SHIMS.get(shim)
    if reader is None:
        raise ValueError(f"servable.shim {shim!r} is not one of the six dlhub_sdk servable types "
                         f"({', '.join(SHIMS)})")
    kind, options = reader(Shim(servable.get("options") or {}, methods, files, draft))
    declared = {name: _method(m) for name, m in methods.items() if isinstance(m, dict) and _IDENTIFIER.match(name)}
    draft.data["servable"] = {"type": kind, "options": options, "methods": declared}
    if declared:
        draft.note(("servable", "methods"), CHECK + "declared from the document; delete a method's input/output "
                   "to let the build read them from the model")


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
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


def _method(method: dict[str, Any]) -> dict[str, Any]:
    return {key: method[key] for key in ("description", "input", "output", "parameters", "method_details")
            if method.get(key) not in (None, {}, "")}


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
        _IDENTIFIER.match(function)
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
    named = isinstance(method, str) and _IDENTIFIER.match(method)
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


def _files(files: dict[str, Any], project: Path, draft: Draft) -> None:
    """Other files become `files:`; every file the document names but the folder lacks gets a FILL IN note."""
    listed = files.get("other")
    other = [f for f in listed if isinstance(f, str) and f.strip()] if isinstance(listed, list) else []
    if isinstance(files.get("arch"), str) and files["arch"].strip():
        other.append(str(files["arch"]))
    if other:
        draft.data["files"] = other
    for i, rel in enumerate(other):
        if not (project / rel).exists():
            draft.note(("files", i), FILL + f"{rel} is not in {project}; copy it there")
    options = draft.data["servable"]["options"]
    for key in ("model", "object"):
        rel = options.get(key)
        if isinstance(rel, str) and not (project / rel).exists():
            draft.note(("servable", "options", key), FILL + f"{rel} is not in {project}; copy the model file there")
    function = options.get("function")
    if isinstance(function, str) and ":" in function:
        module = function.split(":", 1)[0].replace(".", "/") + ".py"
        if not (project / module).exists():
            draft.note(("servable", "options", "function"), FILL + f"{module} is not in {project}; copy it there")
