"""PyTorch models (a pickled `nn.Module` or TorchScript): shapes from the manifest, checked by a forward pass."""

from __future__ import annotations

from typing import Any

from dlhub_manifest.build.inspect.base import Framework, InspectContext, Inspection, Inspector, base_version, sandboxed
from dlhub_manifest.build.types import dtype_kind, ndarray

FRAMEWORK = Framework("torch", "PyTorch", "torch")
_FALLBACK = "dependencies.python.torch (shapes come from the options)"


def probe(args: dict[str, Any]) -> dict[str, Any]:
    """(In the subprocess) load the model and run it once on zeros of the declared input shape."""
    import importlib

    import torch

    for spec in args.get("custom_objects", []):  # classes the pickle refers to must be importable first
        module, _, name = spec.partition(":")
        getattr(importlib.import_module(module), name)
    if args.get("format") == "torchscript":
        model = torch.jit.load(args["model"], map_location="cpu")  # type: ignore[no-untyped-call]
    else:
        model = torch.load(args["model"], map_location="cpu", weights_only=False)
    if not callable(model):
        raise TypeError(f"the file holds a {type(model).__name__}, not a model (a state_dict has only weights); "
                        "save the whole module with torch.save(model) or as TorchScript")
    model.eval()
    zeros = torch.zeros([d or 1 for d in args["input_shape"]], dtype=getattr(torch, args.get("input_type", "float32")))
    with torch.no_grad():
        result = model(zeros)
    outputs = result if isinstance(result, (tuple, list)) else [result]
    return {"torch_version": torch.__version__, "summary": str(model),
            "outputs": [{"shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")} for t in outputs]}


def inspect(ctx: InspectContext) -> Inspection:
    """`run` is `model(x)`: declared shapes and dtypes, and with inspection a forward pass that checks them."""
    opts = ctx.options
    in_type, out_type = opts.get("input_type", "float32"), opts.get("output_type", "float32")
    fmt = opts.get("format", "module")
    out = Inspection(model_type="Deep NN", files={"model": opts["model"]},
                     options={"format": fmt, "input_type": in_type, "output_type": out_type})
    out.methods["run"] = {
        "input": ndarray(opts["input_shape"], dtype_kind(in_type), "Tensor"),
        "output": ndarray(opts["output_shape"], dtype_kind(out_type), "Tensor"),
        "parameters": {}, "method_details": {"method_name": "__call__"},
    }
    if ctx.inspect:
        args = {"model": opts["model"], "format": fmt, "input_shape": opts["input_shape"], "input_type": in_type,
                "custom_objects": opts.get("custom_objects", [])}
        facts = sandboxed(ctx, out, "pytorch", args, ("model",), FRAMEWORK, _FALLBACK)
        if facts:
            out.model_summary = facts["summary"]
            out.dependencies["torch"] = base_version(facts["torch_version"])
            _check_output(ctx, out, facts["outputs"], opts["output_shape"], opts.get("output_type"))
    return out


def _check_output(ctx: InspectContext, out: Inspection, outputs: list[dict[str, Any]],
                  declared: list[int | None], dtype: str | None) -> None:
    """The forward pass's output against `output_shape` (null matches any size) and `output_type`."""
    if len(outputs) != 1:
        out.diagnostics.append(ctx.problem(("output_shape",), f"the model returns {len(outputs)} tensors; "
                                           "output_shape describes one", "return a single tensor from forward()"))
        return
    shape = outputs[0]["shape"]
    if len(shape) != len(declared) or any(d is not None and d != s for d, s in zip(declared, shape, strict=False)):
        sample = [d or 1 for d in ctx.options["input_shape"]]
        out.diagnostics.append(ctx.problem(("output_shape",), f"a forward pass on zeros of shape {sample} gave an "
                                           f"output of shape {shape}, but output_shape is {_show(declared)}",
                                           "fix output_shape (use null for the batch dimension)"))
    if dtype and outputs[0]["dtype"] != dtype:
        out.diagnostics.append(ctx.problem(("output_type",), f"the model outputs {outputs[0]['dtype']}, "
                                           f"but output_type is {dtype}", f"set output_type: {outputs[0]['dtype']}"))


def _show(shape: list[int | None]) -> str:
    return "[" + ", ".join("null" if d is None else str(d) for d in shape) + "]"


KIND = Inspector("torch.TorchServable", "Torch Model", inspect)
