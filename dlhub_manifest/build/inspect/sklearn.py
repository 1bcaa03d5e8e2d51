"""scikit-learn estimators (pickle or joblib): estimator class, classifier or not, classes, saved-with version."""

from __future__ import annotations

import inspect as pyinspect
from typing import Any

from dlhub_manifest.build.inspect.base import Framework, InspectContext, Inspection, Inspector, Method, sandboxed
from dlhub_manifest.build.inspect.loaders import load_object
from dlhub_manifest.build.types import jsonable, ndarray

FRAMEWORK = Framework("sklearn", "scikit-learn", "sklearn")
PREDICT_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function", "transform")
_FALLBACK = "dependencies.python.scikit-learn (inputs and outputs come from the options)"


def probe(args: dict[str, Any]) -> dict[str, Any]:
    """(In the subprocess) load the model and report what the builder needs, as JSON."""
    model, version = _load(args["model"], args.get("serialization", "pickle"))
    from sklearn.base import is_classifier
    from sklearn.pipeline import Pipeline

    final = model.steps[-1][-1] if isinstance(model, Pipeline) else model
    classes = getattr(final, "classes_", None)
    classifier = bool(is_classifier(model))
    method = args.get("method") or ("predict_proba" if classifier and hasattr(model, "predict_proba") else "predict")
    return {
        "model_type": type(final).__name__, "model_summary": str(model), "is_classifier": classifier,
        "classes": jsonable(list(classes)) if classes is not None else None,
        "n_features": jsonable(getattr(model, "n_features_in_", None)), "sklearn_version": version,
        "method": method, "available": [m for m in PREDICT_METHODS if hasattr(model, m)],
        "parameters": _parameters(getattr(final, method, None)),
    }


def _load(path: str, serialization: str) -> tuple[Any, str | None]:
    """Load, catching the `_sklearn_version` that scikit-learn reads (and drops) in `__setstate__`."""
    import sklearn.base

    seen: list[str] = []
    original = sklearn.base.BaseEstimator.__setstate__

    def spy(self: Any, state: Any) -> Any:
        if isinstance(state, dict) and state.get("_sklearn_version"):
            seen.append(str(state["_sklearn_version"]))
        return original(self, state)

    sklearn.base.BaseEstimator.__setstate__ = spy
    try:
        model = load_object(path, serialization)
    finally:
        sklearn.base.BaseEstimator.__setstate__ = original
    return model, (seen[-1] if seen else None)  # the outermost estimator is restored last


def _parameters(method: Any) -> dict[str, Any]:
    """Keyword arguments of the predict method and their defaults (as dlhub_sdk recorded them)."""
    if method is None:
        return {}
    params = pyinspect.signature(method).parameters.values()
    skipped = (pyinspect.Parameter.VAR_POSITIONAL, pyinspect.Parameter.VAR_KEYWORD)
    return {p.name: jsonable(None if p.default is p.empty else p.default)
            for p in params if p.name != "X" and p.kind not in skipped}


def inspect(ctx: InspectContext) -> Inspection:
    """Methods and options of a scikit-learn servable, checked against the model when inspection is on."""
    opts = ctx.options
    serialization = opts.get("serialization", "pickle")
    out = Inspection(files={"model": opts["model"]})
    facts: dict[str, Any] = {}
    if ctx.inspect:
        args = {"model": opts["model"], "serialization": serialization, "method": opts.get("method")}
        facts = probe_model(ctx, out, args) or {}
    _check(ctx, out, facts)
    classes = opts.get("classes") or (facts.get("classes") if facts.get("is_classifier") else None)
    classifier = facts.get("is_classifier", bool(opts.get("classes")))
    out.options = {"serialization_method": serialization, "is_classifier": classifier}
    if classes:
        out.options["classes"] = list(classes)
    out.model_type, out.model_summary = facts.get("model_type"), facts.get("model_summary")
    method = opts.get("method") or facts.get("method") or ("predict_proba" if classifier else "predict")
    n_classes = len(classes) if classes else None
    for name in ["run", *(m for m in ctx.declared if m != "run")]:
        details = ctx.declared.get(name, {}).get("method_details", {})
        chosen = method if name == "run" else details.get("method_name", name)
        if chosen in PREDICT_METHODS:
            params = facts.get("parameters", {}) if chosen == method else {}
            out.methods[name] = _method(chosen, opts["n_input_columns"], n_classes, classes, params)
    _pin(ctx, out, facts)
    return out


def probe_model(ctx: InspectContext, out: Inspection, args: dict[str, Any]) -> dict[str, Any] | None:
    """Load the model in the subprocess; failures become a diagnostic at `servable.options.model`."""
    return sandboxed(ctx, out, "sklearn", args, ("model",), FRAMEWORK, _FALLBACK)


def _check(ctx: InspectContext, out: Inspection, facts: dict[str, Any]) -> None:
    """The manifest's columns, classes and method against what the model itself says."""
    opts = ctx.options
    fitted, listed = facts.get("classes"), opts.get("classes")
    if fitted is not None and listed and len(fitted) != len(listed):
        out.diagnostics.append(ctx.problem(("classes",), f"{len(listed)} classes are listed but the model was "
                                           f"fitted on {len(fitted)} (its classes_ are {fitted})",
                                           "list one label per entry of the model's classes_, in that order"))
    n_features = facts.get("n_features")
    if isinstance(n_features, int) and n_features != opts.get("n_input_columns"):
        out.diagnostics.append(ctx.problem(("n_input_columns",), f"n_input_columns is {opts.get('n_input_columns')} "
                                           f"but the model was fitted on {n_features} features",
                                           f"set n_input_columns: {n_features}"))
    if opts.get("method") and facts.get("available") is not None and opts["method"] not in facts["available"]:
        out.diagnostics.append(ctx.problem(("method",), f"the model has no {opts['method']}() method",
                                           f"choose one of: {', '.join(facts['available']) or 'none'}"))
    if facts.get("is_classifier") and not listed and not fitted:
        out.diagnostics.append(ctx.problem(("classes",), "the model is a classifier but has no classes_",
                                           "list the class labels under servable.options.classes"))


def _method(name: str, n_columns: int, n_classes: int | None, classes: list[Any] | None,
            parameters: dict[str, Any]) -> Method:
    """dlhub_sdk's run method for an estimator: records in, probabilities or predictions out."""
    inputs = ndarray([None, n_columns], "float",
                     f"List of records to evaluate with model. Each record is a list of {n_columns} variables.")
    return {"input": inputs, "output": _output(name, n_classes, classes),
            "parameters": parameters, "method_details": {"method_name": name}}


def _output(name: str, n_classes: int | None, classes: list[Any] | None) -> Method:
    if name in ("predict_proba", "predict_log_proba"):
        what = "Probabilities" if name == "predict_proba" else "Log-probabilities"
        count = n_classes if n_classes is not None else "the"
        return ndarray([None, n_classes], "float", f"{what} for membership in each of {count} classes")
    if name == "decision_function":
        shape: list[int | None] = [None, n_classes] if n_classes and n_classes > 2 else [None]
        return ndarray(shape, "float", "Decision function values of the model.")
    if name == "transform":
        return ndarray([None, None], "float", "Transformed records.")
    labels = "string" if classes and all(isinstance(c, str) for c in classes) else "float"
    return ndarray([None], labels, "Predictions of the machine learning model.")


def _pin(ctx: InspectContext, out: Inspection, facts: dict[str, Any]) -> None:
    """Pin the scikit-learn version the model was saved with; without it, say so."""
    if facts.get("sklearn_version"):
        out.dependencies["scikit-learn"] = facts["sklearn_version"]
    elif ctx.inspect and facts:
        out.diagnostics.append(ctx.problem(("model",), "the pickle does not record the scikit-learn version it "
                                           "was saved with", "pin it in dependencies.python.scikit-learn",
                                           warning=True))


KIND = Inspector("sklearn.ScikitLearnServable", "Scikit-learn estimator", inspect)
