"""The names `dlhub_sdk` users know (`publish_servable`, `get_task_status`, `easy_publish`, ...), backed by
manifests and a registry target (the local registry unless `registry=` or `target=` says otherwise)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from dlhub_manifest.build.document import build as build  # re-exported: part of the API
from dlhub_manifest.errors import RegistryError, UsageError
from dlhub_manifest.registry.browse import SEARCH_LIMIT
from dlhub_manifest.registry.contracts import ServableSummary, TaskInfo, TaskStatus
from dlhub_manifest.targets import resolve_target
from dlhub_manifest.targets.base import Target
from dlhub_manifest.util.servable_ref import parse_servable_ref as parse_servable_ref  # re-exported: part of the API
from dlhub_manifest.util.servable_ref import split_servable_ref

# dlhub_sdk's create_model() argument names → manifest option names.
SDK_OPTION_NAMES = {"path": "model", "model_path": "model", "export_directory": "model",
                    "serialization_method": "serialization"}
SDK_TYPES = {"sklearn": "sklearn", "keras": "keras", "pytorch": "pytorch", "torch": "pytorch",
             "tensorflow": "tensorflow", "static_method": "static_method", "class_method": "class_method"}


def _target(registry: str | Path | None, target: str | None) -> Target:
    return resolve_target(registry=registry, target=target)


def publish_servable(path: str | Path = ".", *, registry: str | Path | None = None, target: str | None = None,
                     inspect: bool = True, wait: bool = False, timeout: float | None = None,
                     examples: bool = True) -> str:
    """Publish the project whose dlhub.yaml is at `path`; returns the task id (follow it with get_task_status).

    The manifest's examples run first (`examples=False` skips them); a failing one raises ExamplesFailed.
    """
    from dlhub_manifest.publish.files import check_target, prepare_files, submit
    from dlhub_manifest.run.gate import gate_examples

    chosen = _target(registry, target)
    check_target(chosen)
    prepared = prepare_files(path, inspect=inspect, target=chosen)
    gate_examples(prepared, run=examples)
    task_id = submit(chosen, prepared)
    return _maybe_wait(chosen, task_id, wait, timeout)


def publish_repository(repository: str | Path = ".", *, ref: str | None = None, allow_dirty: bool = False,
                       inspect: bool = True, registry: str | Path | None = None, target: str | None = None,
                       wait: bool = False, timeout: float | None = None) -> str:
    """Publish a git repository (path or URL) at `ref` (default HEAD); returns the task id."""
    from dlhub_manifest.publish.files import check_target, submit
    from dlhub_manifest.publish.repository import prepare_repository

    chosen = _target(registry, target)
    check_target(chosen)
    prepared = prepare_repository(str(repository), ref=ref, allow_dirty=allow_dirty, inspect=inspect, target=chosen)
    task_id = submit(chosen, prepared)
    return _maybe_wait(chosen, task_id, wait, timeout)


def _maybe_wait(target: Target, task_id: str, wait: bool, timeout: float | None) -> str:
    if wait:
        from dlhub_manifest.publish.files import wait_for_task

        status = wait_for_task(target, task_id, timeout=timeout)
        if status["status"] == TaskStatus.FAILED:
            raise RegistryError(f"task {task_id} failed: {status['messages'][-1]['text']}")
    return task_id


def get_task_status(task_id: str, *, registry: str | Path | None = None, target: str | None = None) -> TaskInfo:
    """The task's status (`queued`, `running`, `succeeded`, `failed`), messages and result."""
    return _target(registry, target).task(task_id)


def easy_publish(title: str, creators: list[str], short_name: str, servable_type: str,
                 serv_options: dict[str, Any], affiliations: list[list[str]] | None = None,
                 paper_doi: str | None = None, *, registry: str | Path | None = None,
                 target: str | None = None) -> str:
    """dlhub_sdk's one-call publish: writes a dlhub.yaml for the model and publishes it; returns the task id."""
    import yaml

    kind = SDK_TYPES.get(servable_type)
    if kind is None:
        raise UsageError(f"servable_type {servable_type!r} is not supported; use one of {', '.join(SDK_TYPES)}")
    options = {SDK_OPTION_NAMES.get(k, k): v for k, v in serv_options.items()}
    with tempfile.TemporaryDirectory(prefix="dlhub-easy-") as tmp:
        project = Path(tmp)
        for key in ("model", "object"):
            if isinstance(options.get(key), (str, Path)):
                options[key] = _copy_in(Path(options[key]), project)
        manifest = {"manifest_version": 1, "name": short_name, "title": title,
                    "creators": _creators(creators, affiliations), "servable": {"type": kind, "options": options}}
        if paper_doi:
            manifest["related"] = [{"doi": paper_doi, "relation": "IsDescribedBy"}]
        (project / "dlhub.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
        return publish_servable(project, registry=registry, target=target)


def _copy_in(source: Path, project: Path) -> str:
    """Copy a model file or folder into the temporary project; returns its project-relative name."""
    if not source.exists():
        raise UsageError(f"{source} does not exist; serv_options must name the saved model")
    dest = project / source.name
    if source.is_dir():
        shutil.copytree(source, dest)
    else:
        shutil.copy2(source, dest)
    return source.name


def _creators(creators: list[str], affiliations: list[list[str]] | None) -> list[Any]:
    if affiliations is not None and len(affiliations) != len(creators):
        raise UsageError("affiliations must hold one list per creator")
    if affiliations is None:
        return list(creators)
    return [{"name": name, "affiliations": list(affs)} for name, affs in zip(creators, affiliations, strict=True)]


def list_servables(*, registry: str | Path | None = None, target: str | None = None) -> list[str]:
    """`owner/name` of every visible servable."""
    return [s["servable"] for s in _target(registry, target).list_servables()]


def get_servables(only_latest_version: bool = True, *, registry: str | Path | None = None,
                  target: str | None = None) -> list[dict[str, Any]]:
    """The documents of every visible servable: the latest version of each, or every version."""
    chosen = _target(registry, target)
    out: list[dict[str, Any]] = []
    for item in chosen.list_servables():
        versions = [item["latest"]] if only_latest_version else item["versions"]
        out.extend(chosen.get_servable(item["owner"], item["name"], v)["document"] for v in versions)
    return out


def describe_servable(name: str, *, registry: str | Path | None = None, target: str | None = None) -> dict[str, Any]:
    """The document of `owner/name` (latest version) or `owner/name@version`."""
    chosen = _target(registry, target)
    ref = split_servable_ref(name)  # checked before any request; only NAME alone needs to ask who we are
    owner = ref.owner or str(chosen.whoami()["username"])
    document: dict[str, Any] = chosen.get_servable(owner, ref.name, ref.version)["document"]
    return document


def describe_methods(name: str, method: str | None = None, *, registry: str | Path | None = None,
                     target: str | None = None) -> dict[str, Any]:
    """The methods a servable offers (or one of them): inputs, outputs, parameters."""
    methods: dict[str, Any] = describe_servable(name, registry=registry, target=target).get("servable", {}).get(
        "methods", {})
    if method is None:
        return methods
    if method not in methods:
        raise UsageError(f"{name} has no method {method!r}; it has: {', '.join(sorted(methods)) or 'none'}")
    found: dict[str, Any] = methods[method]
    return found


def _run_target(ref: str, registry: str | Path | None, target: str | None) -> Target | None:
    """No registry for a project folder (unless one is named); the chosen one for a published servable."""
    from dlhub_manifest.run.source import is_project

    return None if is_project(ref) and not (registry or target) else _target(registry, target)


def run(ref: str, input: Any, method: str = "run", parameters: dict[str, Any] | None = None, *,
        target: str | None = None, registry: str | Path | None = None, isolated: bool = False,
        timeout: float | None = None) -> Any:
    """Call `method` of a servable (project folder, or published `OWNER/NAME[@VERSION]`) on `input`; returns the
    output as JSON values. The input is checked first (InvalidInputError lists every mismatch)."""
    from dlhub_manifest.run.call import DEFAULT_TIMEOUT
    from dlhub_manifest.run.session import run_servable

    result = run_servable(ref, input, method=method, parameters=parameters, target=_run_target(ref, registry, target),
                          isolated=isolated, timeout=timeout or DEFAULT_TIMEOUT)
    return result.output


def validate_input(ref: str, input: Any, method: str = "run", parameters: dict[str, Any] | None = None, *,
                   target: str | None = None, registry: str | Path | None = None) -> list[str]:
    """Every way `input` (and `parameters`) does not fit the method's declaration, with JSON paths
    (`input[0][2]: expected float, got 'x'`); empty when it fits. Nothing is loaded."""
    from dlhub_manifest.run.session import validate_servable_input

    return validate_servable_input(ref, input, method=method, parameters=parameters,
                                   target=_run_target(ref, registry, target))


def search(query: str, *, limit: int = SEARCH_LIMIT, registry: str | Path | None = None,
           target: str | None = None) -> list[ServableSummary]:
    """The best `limit` servables whose title, name, description, creators, keywords or DOIs mention every word
    of `query`, best first."""
    return _target(registry, target).search(query, limit)


def export_citation(source: str | Path = ".", fmt: str = "cff", *, version: str | None = None,
                    doi: str | None = None, registry: str | Path | None = None, target: str | None = None) -> str:
    """The citation of a project (a path) or a published version (`owner/name@version`) in format `fmt`
    (cff, zenodo, codemeta, datacite-json, datacite-xml, bibtex), as text."""
    from dlhub_manifest.citation.export import ExportRequest, export

    return export(ExportRequest(str(source), fmt, version, doi, registry, target)).text


def import_manifest(path: str | Path, project: str | Path = ".") -> str:
    """The dlhub.yaml text for a dlhub_sdk document or citation file; model files are looked for in `project`."""
    from dlhub_manifest.citation.importers import import_file

    return import_file(path, project).text
