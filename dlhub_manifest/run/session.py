"""`run` as the CLI and the API use it: open the servable REF names, choose the interpreter, call or run
its examples. Warnings (an environment that differs from the pins) go to `warn`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlhub_manifest.build.inspect.runner import Interpreter
from dlhub_manifest.run.call import DEFAULT_TIMEOUT, InvalidInputError, RunResult, call, check_call
from dlhub_manifest.run.examples import ExampleResult, run_examples
from dlhub_manifest.run.source import Servable, open_servable
from dlhub_manifest.targets.base import Target

Warn = Callable[[str], object]


def run_servable(ref: str, value: Any, *, method: str = "run", parameters: dict[str, Any] | None = None,
                 target: Target | None = None, isolated: bool = False, timeout: float = DEFAULT_TIMEOUT,
                 warn: Warn | None = None) -> RunResult:
    """Call `method` of the servable REF names on `value` (checked first)."""
    with open_servable(ref, target) as servable:
        _check(servable, method, value, parameters)  # a bad input is refused before an environment is built
        interpreter = choose_interpreter(servable, isolated, warn)
        return call(servable, method, value, parameters, timeout=timeout, interpreter=interpreter)


def run_servable_examples(ref: str, *, target: Target | None = None, isolated: bool = False,
                          timeout: float = DEFAULT_TIMEOUT, warn: Warn | None = None,
                          on_result: Callable[[ExampleResult], object] | None = None) -> list[ExampleResult]:
    """Run every example the servable's manifest declares; the results say which passed."""
    with open_servable(ref, target) as servable:
        interpreter = choose_interpreter(servable, isolated, warn)
        return run_examples(servable, on_result=on_result, timeout=timeout, interpreter=interpreter)


def validate_servable_input(ref: str, value: Any, *, method: str = "run", parameters: dict[str, Any] | None = None,
                            target: Target | None = None) -> list[str]:
    """Every mismatch of `value` (and `parameters`) with the method's declaration; nothing is loaded."""
    with open_servable(ref, target) as servable:
        return check_call(servable, method, value, parameters)


def choose_interpreter(servable: Servable, isolated: bool, warn: Warn | None) -> Interpreter | None:
    """The isolated environment's interpreter (built on first use), else None after warning about differences."""
    if isolated:
        from dlhub_manifest.run.env import ensure_environment

        env = ensure_environment(servable.document)
        if warn is not None and env.created:
            warn(f"built an isolated environment at {env.folder}")
        return env.interpreter
    if warn is not None:
        from dlhub_manifest.run.versions import environment_warnings

        for line in environment_warnings(servable.document):
            warn(line)
    return None


def _check(servable: Servable, method: str, value: Any, parameters: dict[str, Any] | None) -> None:
    problems = check_call(servable, method, value, parameters)
    if problems:
        raise InvalidInputError(problems)
