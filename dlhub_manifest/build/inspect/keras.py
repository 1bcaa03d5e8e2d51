"""Keras models (`.keras`, `.h5`): shapes and output names from the saved configuration, no Keras needed.

Only when a layer has no shape rule does the builder load the model with Keras (in the subprocess, with
`safe_mode`) to ask it for its shapes.
"""

from __future__ import annotations

from typing import Any

from dlhub_manifest.build.inspect.base import Framework, InspectContext, Inspection, Inspector, sandboxed
from dlhub_manifest.build.inspect.keras_config import KerasConfigError, KerasModel, Tensor, read_model
from dlhub_manifest.build.types import Argument, dtype_kind, ndarray
from dlhub_manifest.manifest.paths import PathProblem, resolve_inside

FRAMEWORK = Framework("keras", "Keras", "keras")
_FALLBACK = "servable.methods.run.input and .output"


def probe(args: dict[str, Any]) -> dict[str, Any]:
    """(In the subprocess) load with Keras and report input/output shapes the configuration did not give."""
    import importlib

    import keras

    custom = {}
    for name, spec in args.get("custom_objects", {}).items():
        module, _, attr = spec.partition(":")
        custom[name] = getattr(importlib.import_module(module), attr)
    model = keras.saving.load_model(args["model"], custom_objects=custom, compile=False, safe_mode=True)
    return {"inputs": [list(t.shape) for t in model.inputs], "outputs": [list(t.shape) for t in model.outputs]}


def inspect(ctx: InspectContext) -> Inspection:
    """`run` is `model.predict(x)`, described from the model's configuration when inspection is on."""
    opts = ctx.options
    custom = dict(opts.get("custom_objects", {}))
    out = Inspection(model_type="Deep NN", files={"model": opts["model"]})
    if custom:
        out.options["custom_objects"] = {k: v.replace(":", ".") for k, v in sorted(custom.items())}
    _check_custom_modules(ctx, out, custom)
    run: dict[str, Any] = {"parameters": {}, "method_details": {"method_name": "predict"}}
    out.methods["run"] = run
    if not ctx.inspect:
        if opts.get("output_names"):
            out.options["output_names"] = list(opts["output_names"])
        return out
    try:
        model = read_model(resolve_inside(ctx.project, opts["model"], "any"))
    except (KerasConfigError, PathProblem) as e:
        out.diagnostics.append(ctx.problem(("model",), f"cannot read the Keras model: {e}",
                                           f"re-save it with model.save('model.keras'), or declare {_FALLBACK} "
                                           "and build with --no-inspect"))
        return out
    _describe(ctx, out, model, run)
    return out


def _describe(ctx: InspectContext, out: Inspection, model: KerasModel, run: dict[str, Any]) -> None:
    known = ctx.options.get("custom_objects", {})
    unmapped = {layer: cls for layer, cls in model.custom_classes.items()
                if cls not in known and cls.split(">")[-1] not in known}  # registered names look like "Package>Class"
    for layer, cls in sorted(unmapped.items()):
        out.diagnostics.append(ctx.problem(("custom_objects",), f"layer {layer!r} is of class {cls!r}, "
                                           "which Keras does not provide",
                                           f"map it under servable.options.custom_objects ({cls}: module:Class)"))
    if not out.diagnostics and any(t.shape is None for t in [*model.inputs, *model.outputs]):
        _ask_keras(ctx, out, model)  # Keras cannot load the model while custom classes are unresolved anyway
    names = ctx.options.get("output_names") or [t.name for t in model.outputs]
    if len(names) != len(model.outputs):
        out.diagnostics.append(ctx.problem(("output_names",), f"{len(names)} output names for a model with "
                                           f"{len(model.outputs)} outputs", "give one name per output"))
    out.options["output_names"] = list(names)
    if model.keras_version:
        out.dependencies["keras"] = model.keras_version
    out.model_summary = _summary(model)
    if all(t.shape is not None for t in [*model.inputs, *model.outputs]) and model.inputs and model.outputs:
        run["input"] = _tensors(model.inputs, "Input")
        run["output"] = _tensors(model.outputs, "Output")


def _ask_keras(ctx: InspectContext, out: Inspection, model: KerasModel) -> None:
    """Some layer has no shape rule: ask Keras itself, in the subprocess."""
    args = {"model": ctx.options["model"], "custom_objects": ctx.options.get("custom_objects", {})}
    facts = sandboxed(ctx, out, "keras", args, ("model",), FRAMEWORK, _FALLBACK)
    if facts:
        for tensor, shape in zip([*model.inputs, *model.outputs], [*facts["inputs"], *facts["outputs"]],
                                 strict=False):
            tensor.shape = shape


def _tensors(tensors: list[Tensor], side: str) -> Argument:
    """One tensor is an ndarray; several are a tuple of them (dlhub_sdk's "Tuple of tensors")."""
    blocks = [ndarray(t.shape or [None], dtype_kind(t.dtype), f"{side} tensor '{t.name}'") for t in tensors]
    if len(blocks) == 1:
        return blocks[0]
    return {"type": "tuple", "description": "Tuple of tensors", "element_types": blocks}


def _summary(model: KerasModel) -> str:
    """A deterministic one-line-per-layer summary (Keras's own summary needs Keras and varies by version)."""
    lines = [f"{model.kind} model '{model.name}'"]
    if model.backend:  # a fact about the file, not a dependency: the deployer picks the backend (KERAS_BACKEND)
        lines.append(f"saved with the {model.backend} backend")
    lines += [f"{name} ({cls}): {_shape_text(shape)}" for name, cls, shape in model.layers]
    return "\n".join(lines)


def _shape_text(shape: list[int | None] | None) -> str:
    if shape is None:
        return "shape unknown"
    return "[" + ", ".join("null" if d is None else str(d) for d in shape) + "]"


def _check_custom_modules(ctx: InspectContext, out: Inspection, custom: dict[str, str]) -> None:
    """Each `Name: module:Class` must name a module inside the project (it ships with the servable)."""
    for name, spec in sorted(custom.items()):
        module = spec.partition(":")[0]
        stem = module.replace(".", "/")
        if not any(_exists(ctx, rel) for rel in (f"{stem}.py", f"{stem}/__init__.py")):
            out.diagnostics.append(ctx.problem(("custom_objects", name), f"module {module!r} is not in the project",
                                               f"add {stem}.py to the project; write the value as module:Class"))


def _exists(ctx: InspectContext, rel: str) -> bool:
    try:
        resolve_inside(ctx.project, rel, "file")
    except PathProblem:
        return False
    return True


KIND = Inspector("keras.KerasServable", "Keras Model", inspect)
