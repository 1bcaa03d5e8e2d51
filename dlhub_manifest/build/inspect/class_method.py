"""A method of a pickled Python object: the object's class and each method's signature."""

from __future__ import annotations

from typing import Any

from dlhub_manifest.build.inspect.base import Framework, InspectContext, Inspection, Inspector, sandboxed
from dlhub_manifest.build.inspect.callables import add_method

_PYTHON = Framework("", "Python", "")
_FALLBACK = "the methods' input and output under servable.methods"


def probe(args: dict[str, Any]) -> dict[str, Any]:
    """(In the subprocess) unpickle the object and describe the requested methods."""
    from dlhub_manifest.build.inspect.loaders import load_object
    from dlhub_manifest.build.signature import describe_callable

    obj = load_object(args["object"], args.get("serialization", "pickle"))
    cls = type(obj)
    described: dict[str, Any] = {}
    for name, attr in args["methods"].items():
        method = getattr(obj, attr, None)
        described[name] = describe_callable(method) if callable(method) else {"missing": attr}
    return {"class_name": f"{cls.__module__}.{cls.__qualname__}", "methods": described}


def inspect(ctx: InspectContext) -> Inspection:
    """`run` calls `options.method`; other declared methods call `method_details.method_name` (or their name)."""
    opts = ctx.options
    targets = {"run": str(opts["method"])}
    for name, declared in ctx.declared.items():
        if name != "run":
            targets[name] = str(declared.get("method_details", {}).get("method_name", name))
    serialization = opts.get("serialization", "pickle")
    out = Inspection(files={"pickle": opts["object"]}, options={"serialization_method": serialization})
    facts: dict[str, Any] = {}
    if ctx.inspect:
        args = {"object": opts["object"], "serialization": serialization, "methods": targets}
        facts = sandboxed(ctx, out, "class_method", args, ("object",), _PYTHON, _FALLBACK) or {}
    for name, attr in targets.items():
        details = {"method_name": attr, **({"class_name": facts["class_name"]} if facts else {})}
        description = facts.get("methods", {}).get(name, {})
        where = ("method",) if name == "run" else ("servable", "methods", name)
        if "missing" in description:
            out.diagnostics.append(ctx.problem(where, f"{facts['class_name']} has no method {attr!r}",
                                               "check the method name"))
        elif description:
            add_method(ctx, out, name, description, details, where)
            continue
        out.methods[name] = {"parameters": {}, "method_details": details}
    return out


KIND = Inspector("python.PythonClassMethodServable", "Python class method", inspect)
