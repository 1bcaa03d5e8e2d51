"""Call one method of a servable: check the input and parameters, then run it in a subprocess.

The subprocess is the inspection runner's (`build/inspect/runner.py`): a fresh interpreter whose working
directory and first `sys.path` entry is the servable's folder, with a timeout and no secrets in its
environment. `DEFAULT_TIMEOUT` seconds cover loading the framework, the model and one call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from dlhub_manifest.build.inspect.runner import Interpreter, ProbeFailed, run_probe
from dlhub_manifest.errors import DLHubManifestError, UsageError
from dlhub_manifest.run.inputs import check_parameters, check_value
from dlhub_manifest.run.source import Servable

DEFAULT_TIMEOUT = 300.0
KINDS = {"sklearn": "sklearn", "torch": "pytorch", "keras": "keras", "tensorflow": "tensorflow"}
PYTHON_SHIMS = {"python.PythonStaticMethodServable": "static_method",
                "python.PythonClassMethodServable": "class_method"}


class InvalidInputError(DLHubManifestError):
    """The input or parameters do not fit what the method declares; `problems` lists every mismatch."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("the input does not fit the method:\n  " + "\n  ".join(problems))


class RunFailed(DLHubManifestError):
    """The servable could not be loaded or its method raised; the message says what happened."""


@dataclass(frozen=True)
class RunResult:
    """A method's output (JSON), the method's name and the wall time of the call, model loading included."""

    output: Any
    method: str
    elapsed_s: float

    def to_dict(self) -> dict[str, Any]:
        return {"output": self.output, "method": self.method, "elapsed_s": round(self.elapsed_s, 6)}


def method_block(servable: Servable, method: str) -> dict[str, Any]:
    """The document's description of `method`; a usage error names the methods there are."""
    methods = servable.methods
    if method not in methods:
        raise UsageError(f"{servable.label} has no method {method!r}; it has: {', '.join(methods) or 'none'}")
    block: dict[str, Any] = methods[method]
    return block


def check_call(servable: Servable, method: str, value: Any, parameters: dict[str, Any] | None = None) -> list[str]:
    """Every mismatch of `value` and `parameters` with the method's declared input and parameters."""
    block = method_block(servable, method)
    problems = check_value(block["input"], value) if "input" in block else []
    return problems + check_parameters(block.get("parameters") or {}, parameters or {})


def call(servable: Servable, method: str, value: Any, parameters: dict[str, Any] | None = None, *,
         timeout: float = DEFAULT_TIMEOUT, interpreter: Interpreter | None = None) -> RunResult:
    """Check, then run `method` on `value`; InvalidInputError before anything is loaded when they do not fit."""
    problems = check_call(servable, method, value, parameters)
    if problems:
        raise InvalidInputError(problems)
    args = {"kind": servable_kind(servable.document), "method": method_block(servable, method),
            "options": servable.document["servable"].get("options") or {},
            "files": servable.document["dlhub"]["files"], "input": value, "parameters": dict(parameters or {}),
            "backend": _keras_backend(servable)}
    started = time.perf_counter()
    try:
        answer = run_probe("invoke", args, servable.folder, timeout, interpreter=interpreter)
    except ProbeFailed as e:
        raise RunFailed(_failure(servable, method, e)) from e
    return RunResult(answer["output"], method, time.perf_counter() - started)


def servable_kind(document: dict[str, Any]) -> str:
    """The manifest type (`sklearn`, `static_method`, ...) from the document's DLHub shim."""
    shim = str(document["servable"]["shim"])
    return PYTHON_SHIMS.get(shim) or KINDS[shim.split(".", 1)[0]]


def _keras_backend(servable: Servable) -> str | None:
    """The backend a Keras model was saved with (read from the file, without Keras), so it loads the same way."""
    if servable_kind(servable.document) != "keras":
        return None
    from dlhub_manifest.build.inspect.keras_config import KerasConfigError, read_model

    try:
        return read_model(servable.folder / servable.document["dlhub"]["files"]["model"]).backend
    except (KerasConfigError, OSError):
        return None


def _failure(servable: Servable, method: str, e: ProbeFailed) -> str:
    text = f"{servable.label} {method}: {e.message}"
    if e.missing:
        return (f"{text}; the module {e.missing!r} is neither installed nor among the servable's files (install "
                "it, declare it in the dependencies and use --isolated, or add the module to `files`)")
    return text
