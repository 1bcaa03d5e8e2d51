"""Plain Python functions (`module:function` inside the project): inputs and outputs from the type hints."""

from __future__ import annotations

from typing import Any

from dlhub_manifest.build.inspect.base import Framework, InspectContext, Inspection, Inspector, sandboxed
from dlhub_manifest.build.inspect.callables import add_method

_PYTHON = Framework("", "Python", "")  # plain Python: nothing to install
_FALLBACK = "servable.methods.run.input and .output"


def probe(args: dict[str, Any]) -> dict[str, Any]:
    """(In the subprocess) import the function from the project and describe its signature."""
    import importlib

    from dlhub_manifest.build.signature import describe_callable

    module = importlib.import_module(args["module"])
    fn = getattr(module, args["function"], None)
    if not callable(fn):
        raise LookupError(f"module {args['module']!r} has no function {args['function']!r}")
    return describe_callable(fn)


def inspect(ctx: InspectContext) -> Inspection:
    """The `run` method of a static function: details always, input/output from hints when inspecting."""
    module, _, function = str(ctx.options["function"]).partition(":")
    details = {"module": module, "method_name": function, "autobatch": bool(ctx.options.get("autobatch", False))}
    out = Inspection()
    description: dict[str, Any] = {}
    if ctx.inspect:
        args = {"module": module, "function": function}
        description = sandboxed(ctx, out, "static_method", args, ("function",), _PYTHON, _FALLBACK) or {}
    if description:
        add_method(ctx, out, "run", description, details, ("function",))
    else:
        out.methods["run"] = {"parameters": {}, "method_details": details}
    return out


KIND = Inspector("python.PythonStaticMethodServable", "Python static method", inspect)
