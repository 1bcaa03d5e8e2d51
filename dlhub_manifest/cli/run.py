"""`dlhub-manifest run`: call a servable's method, from its project folder or as published."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dlhub_manifest.cli._registry_opts import echo_json, format_option, target_options

if TYPE_CHECKING:
    from dlhub_manifest.run.examples import ExampleResult
    from dlhub_manifest.targets.base import Target

DEFAULT_TIMEOUT = 300.0  # dlhub_manifest.run.call.DEFAULT_TIMEOUT, repeated so --help does not import it


@click.command("run")
@click.argument("ref")
@click.option("--method", default="run", show_default=True, help="The method to call.")
@click.option("--input", "input_text", metavar="JSON|@FILE|-",
              help="The input as JSON, @FILE holding JSON, or - to read JSON from stdin.")
@click.option("--param", "params", multiple=True, metavar="K=V",
              help="A keyword parameter; V is JSON when it parses (3, true, [1,2]), else a string. Repeatable.")
@click.option("--examples", is_flag=True, help="Run the examples the manifest declares instead, and report each.")
@click.option("--isolated", is_flag=True, help="Run in a virtual environment made from the servable's declared "
              "dependencies (built once, then reused).")
@click.option("--timeout", type=click.FloatRange(min=1), default=DEFAULT_TIMEOUT, show_default=True,
              help="Seconds allowed for loading the model and one call.")
@target_options
@format_option
def run_command(ref: str, method: str, input_text: str | None, params: tuple[str, ...], examples: bool,
                isolated: bool, timeout: float, registry: Path | None, target: str | None, fmt: str) -> int:
    """Run a method of the servable REF: a project folder, or a published OWNER/NAME[@VERSION] or NAME[@VERSION].

    The input is checked against the method's declared input first (every mismatch with its JSON path, exit 1);
    then the method runs in a subprocess with only the servable's files. A published servable's files are
    fetched into the cache and verified by sha256. The output is printed as JSON.

    Example: dlhub-manifest run examples/sklearn --input '[[5.1, 3.5, 1.4, 0.2]]'
    """
    from dlhub_manifest.errors import UsageError
    from dlhub_manifest.run.session import run_servable, run_servable_examples

    chosen = _target(ref, registry, target)
    warn = _warn
    if examples:
        if input_text is not None or params:
            raise UsageError("--examples runs the manifest's own inputs: leave out --input and --param")
        results = run_servable_examples(ref, target=chosen, isolated=isolated, timeout=timeout, warn=warn,
                                        on_result=None if fmt == "json" else _print_result)
        return _report_examples(results, fmt)
    if input_text is None:
        raise UsageError("give the input with --input JSON, --input @FILE or --input - (stdin), or use --examples")
    result = run_servable(ref, parse_input(input_text), method=method, parameters=parse_params(params),
                          target=chosen, isolated=isolated, timeout=timeout, warn=warn)
    if fmt == "json":
        echo_json(result.to_dict())
    else:
        click.echo(json.dumps(result.output))
    return 0


def _target(ref: str, registry: Path | None, target: str | None) -> Target | None:
    """A project folder needs no registry; a published servable is looked up in the chosen one."""
    from dlhub_manifest.run.source import is_project

    if is_project(ref) and not (registry or target):
        return None
    from dlhub_manifest.cli._registry_opts import get_target

    return get_target(registry, target)


def parse_input(text: str) -> Any:
    """`--input` as JSON: given inline, in @FILE, or on stdin for `-`."""
    from dlhub_manifest.errors import UsageError

    where = "--input"
    if text == "-":
        text, where = sys.stdin.read(), "the input on stdin"
    elif text.startswith("@"):
        try:
            text, where = Path(text[1:]).read_text(encoding="utf-8"), text[1:]
        except OSError as e:
            raise UsageError(f"cannot read the input file {text[1:]}: {e.strerror or e}") from e
    try:
        return json.loads(text)
    except ValueError as e:
        raise UsageError(f"{where} is not JSON: {e}") from e


def parse_params(items: tuple[str, ...]) -> dict[str, Any]:
    """`k=v` pairs; each value is JSON when it parses, else the text itself."""
    from dlhub_manifest.errors import UsageError

    params: dict[str, Any] = {}
    for item in items:
        name, eq, raw = item.partition("=")
        if not eq or not name.strip():
            raise UsageError(f"--param {item!r}: write NAME=VALUE (for example --param clip=true)")
        try:
            params[name.strip()] = json.loads(raw)
        except ValueError:
            params[name.strip()] = raw
    return params


def _warn(text: str) -> None:
    click.echo(f"warning: {text}", err=True)


def _print_result(result: ExampleResult) -> None:
    status = "PASS" if result.passed else "FAIL"
    detail = "" if result.passed else ": " + "; ".join(result.differences)
    click.echo(f"{status} {result.example.label} ({result.elapsed_s:.2f} s){detail}")


def _report_examples(results: list[ExampleResult], fmt: str) -> int:
    from dlhub_manifest.errors import UsageError

    if not results:
        raise UsageError("the manifest declares no examples: add servable.methods.<name>.examples")
    passed = sum(r.passed for r in results)
    if fmt == "json":
        echo_json({"examples": [r.to_dict() for r in results], "passed": passed, "failed": len(results) - passed})
    else:
        click.echo(f"{passed} of {len(results)} example(s) passed")
    return 0 if passed == len(results) else 1
