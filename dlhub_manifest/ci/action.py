"""What the GitHub Action's publish step does: build the servable, run its examples, publish it with the tag's
version, follow the task.

The job's commit is recorded as the document's provenance; a dry run builds and hashes but never contacts the
registry (pull requests from forks have no secrets).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dlhub_manifest.ci.github import Publication, version_from_ref
from dlhub_manifest.ci.oidc import use_trusted_publishing
from dlhub_manifest.errors import UsageError
from dlhub_manifest.publish.files import (
    Prepared,
    Progress,
    TaskTimeout,
    check_target,
    prepare_files,
    submit,
    wait_for_task,
)
from dlhub_manifest.registry.contracts import Provenance, TaskInfo, TaskStatus
from dlhub_manifest.targets.base import Target

REGISTRY_ENV = "DLHUB_MANIFEST_REGISTRY"


@dataclass(frozen=True)
class ActionInputs:
    """The action's inputs, parsed."""

    path: str = "."
    target: str = ""
    version: str = ""
    wait: bool = True
    timeout: float = 600.0
    dry_run: bool = False
    audience: str = "dlhub-manifest"  # for trusted publishing: the `aud` the registry expects in ID tokens
    examples: bool = True


def run_action(inputs: ActionInputs, env: Mapping[str, str], progress: Progress | None = None) -> Publication:
    """Build, then (unless a dry run) publish and, with `wait`, follow the task to its end.

    The registry is asked who we are before the build, so a missing secret or a wrong URL fails the job at once.
    """
    from dlhub_manifest.run.gate import gate_examples

    target = None if inputs.dry_run else publishing_target(inputs, env, progress)
    prepared = prepare_files(inputs.path, progress=progress, provenance=github_provenance(env))
    gate_examples(prepared, run=inputs.examples)  # pull requests (dry runs) too: a failing example fails the job
    version = publication_version(prepared.version, inputs.version or version_from_ref(env.get("GITHUB_REF")))
    if version:
        prepared.version = version
    if target is None:
        return Publication(servable=prepared.name, version=version or "", dry_run=True)
    task_id = submit(target, prepared, progress)
    status, timed_out = follow(target, task_id, inputs)
    return publication(target, prepared, task_id, status, timed_out)


def publishing_target(inputs: ActionInputs, env: Mapping[str, str], progress: Progress | None) -> Target:
    """The registry to publish to, with its credentials (the job's ID token when that is the way) checked."""
    if use_trusted_publishing(env, inputs.audience) and progress is not None:
        progress.stage("publishing with the job's OpenID Connect ID token (trusted publishing)")
    target = choose_target(inputs.target, env)
    check_target(target)
    return target


def publication_version(manifest: str | None, asked: str | None) -> str | None:
    """The version to publish: the tag's (or the input's) and the manifest's must agree when both are given."""
    if manifest and asked and manifest != asked:
        raise UsageError(f"the tag asks for version {asked} but dlhub.yaml says `version: {manifest}`; remove "
                         "`version` from dlhub.yaml (the tag then decides) or tag the commit v" + manifest)
    return asked or manifest


def github_provenance(env: Mapping[str, str]) -> Provenance:
    """The repository, commit and ref of the job, for the document's provenance block (empty ones left out)."""
    server, repo = env.get("GITHUB_SERVER_URL", "https://github.com"), env.get("GITHUB_REPOSITORY", "")
    provenance: Provenance = {}
    if repo:
        provenance["repository"] = f"{server}/{repo}"
    if env.get("GITHUB_SHA"):
        provenance["commit"] = env["GITHUB_SHA"]
    if env.get("GITHUB_REF_NAME"):
        provenance["ref"] = env["GITHUB_REF_NAME"]
    return provenance


def choose_target(url: str, env: Mapping[str, str]) -> Target:
    """The registry named by the `target` input; the embedded one only when a persistent folder is configured."""
    from dlhub_manifest.targets import resolve_target

    if not url and not env.get(REGISTRY_ENV):
        raise UsageError("set the action's `target` input to your registry's URL (a runner's own registry "
                         "disappears with the job), or use `dry-run: true` to build without publishing")
    return resolve_target(registry=None if url else env[REGISTRY_ENV], target=url or None)


def follow(target: Target, task_id: str, inputs: ActionInputs) -> tuple[TaskInfo, bool]:
    """The task's final status (or its current one without `wait`), and whether waiting ran out of time."""
    if not inputs.wait:
        return target.task(task_id), False
    try:
        return wait_for_task(target, task_id, timeout=inputs.timeout), False
    except TaskTimeout:
        return target.task(task_id), True


def publication(target: Target, prepared: Prepared, task_id: str, status: TaskInfo,
                timed_out: bool) -> Publication:
    """What to report about a submitted task."""
    result = status.get("result")
    servable = str((result["servable"] if result else None) or status.get("servable") or prepared.name)
    version = str((result["version"] if result else None) or prepared.version or "")
    messages = status.get("messages") or []
    url = target.url or ""
    done = status["status"] == TaskStatus.SUCCEEDED
    document_url = f"{url.rstrip('/')}/servables/{servable}/versions/{version}" if url and done else ""
    return Publication(servable=servable, version=version, task_id=task_id, status=str(status["status"]),
                       document_url=document_url, target=target.description, timed_out=timed_out,
                       message=str(messages[-1].get("text", "")) if messages else "")
