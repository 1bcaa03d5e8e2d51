"""`dlhub-manifest publish`: publish a project's files or a git commit, and follow the task."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dlhub_manifest.cli._registry_opts import echo_json, format_option, get_target, short, target_options
from dlhub_manifest.registry.contracts import TaskStatus

if TYPE_CHECKING:
    from dlhub_manifest.errors import InvalidManifestError
    from dlhub_manifest.publish.files import Prepared, Progress
    from dlhub_manifest.publish.plan import Plan
    from dlhub_manifest.targets.base import Target


@click.command("publish")
@click.argument("path", required=False, default=".")
@click.option("--repo", is_flag=True, help="Publish the git repository at PATH (folder or URL) at a pinned commit.")
@click.option("--ref", help="With --repo: tag, branch or commit to publish (default HEAD); tag v1.2.0 gives 1.2.0.")
@click.option("--allow-dirty", is_flag=True, help="With --repo: publish HEAD even with uncommitted changes "
              "(they are not published; the provenance records `dirty: true`).")
@click.option("--no-inspect", is_flag=True, help="Do not load the model; use only what the manifest declares.")
@click.option("--no-cache", is_flag=True, help="Hash every file and inspect the model again, ignoring what was "
              "remembered for unchanged files (also: DLHUB_MANIFEST_NO_CACHE=1).")
@click.option("--no-examples", is_flag=True, help="Do not run the manifest's examples before submitting (the "
              "provenance records that they did not run).")
@click.option("--dry-run", is_flag=True, help="Print the plan (version, files new or stored, metadata diff) and "
              "write nothing.")
@click.option("--wait/--no-wait", default=None, help="Follow the task to its end (default when stdout is a "
              "terminal) or return right after submitting.")
@click.option("--timeout", type=click.FloatRange(min=0), help="With --wait: give up waiting after this many seconds.")
@target_options
@format_option
def publish_command(path: str, repo: bool, ref: str | None, allow_dirty: bool, no_inspect: bool, no_cache: bool,
                    no_examples: bool, dry_run: bool, wait: bool | None, timeout: float | None, registry: Path | None,
                    target: str | None,
                    fmt: str) -> int:
    """Publish the servable at PATH (default .) to the local registry, or --target a registry over HTTP.

    Checks the registry answers and accepts the credentials, validates and builds the document, hashes the
    files the manifest selects, runs the manifest's examples (a failing one stops the publication), uploads
    only the files the registry lacks and submits a task; prints the task id at once. The version is the
    manifest's, else the tag's, else the next patch. Exit status: 0 succeeded (or queued with --no-wait), 1 failed.

    Example: dlhub-manifest publish examples/sklearn --wait
    """
    from dlhub_manifest.cli._progress import StderrProgress
    from dlhub_manifest.errors import InvalidManifestError, UsageError

    if (ref or allow_dirty) and not repo:
        raise UsageError("--ref and --allow-dirty apply to --repo publications only")
    chosen = get_target(registry, target)
    progress = StderrProgress(quiet=fmt == "json")
    try:
        prepared = _prepare(chosen, path, repo, ref, allow_dirty, not no_inspect, dry_run, progress, not no_cache)
    except InvalidManifestError as e:
        _report_problems(path, e)
        return 1
    if dry_run:
        return _show_plan(chosen, prepared, fmt)
    if not repo:
        _run_examples(prepared, not no_examples, progress)
    from dlhub_manifest.publish.files import submit

    task_id = submit(chosen, prepared, progress)
    if fmt == "text":
        click.echo(f"task {task_id}")
    if not (sys.stdout.isatty() if wait is None else wait):
        if fmt == "json":
            echo_json({"task_id": task_id, "status": TaskStatus.QUEUED.value})
        return 0
    return follow(chosen, task_id, timeout, fmt)


def _prepare(target: Target, path: str, repo: bool, ref: str | None, allow_dirty: bool, inspect: bool,
             dry_run: bool, progress: Progress, use_cache: bool = True) -> Prepared:
    from dlhub_manifest.publish.files import check_target

    check_target(target)  # credentials and reachability, before the model is loaded or a file hashed
    if repo:
        from dlhub_manifest.publish.repository import prepare_repository

        return prepare_repository(path, ref=ref, allow_dirty=allow_dirty, inspect=inspect, with_files=dry_run,
                                  progress=progress, target=target)
    from dlhub_manifest.publish.files import prepare_files

    # A dry run names no target: nothing may be written, not even blobs stored while hashing.
    return prepare_files(path, inspect=inspect, progress=progress, target=None if dry_run else target,
                         use_cache=use_cache)


def _run_examples(prepared: Prepared, run: bool, progress: Progress) -> None:
    """The examples gate: each result as a stage line; ExamplesFailed (exit 1) names the failing ones."""
    from dlhub_manifest.run.examples import ExampleResult
    from dlhub_manifest.run.gate import gate_examples

    def report(result: ExampleResult) -> None:
        progress.stage(f"example {'passed' if result.passed else 'FAILED'}: {result.example.label}")

    gate_examples(prepared, run=run, on_result=report)


def _report_problems(path: str, error: InvalidManifestError) -> None:
    """Every manifest problem, located, as `validate` shows them (not just the first)."""
    from dlhub_manifest.manifest.diagnostics import Report
    from dlhub_manifest.manifest.render import render_text

    file = error.diagnostics[0].file if error.diagnostics else path
    click.echo(render_text([Report(file, error.diagnostics)]), err=True)


def follow(target: Target, task_id: str, timeout: float | None, fmt: str) -> int:
    """Wait for the task, printing its messages as they come; 0 when it succeeded, 1 when it failed."""
    from dlhub_manifest.cli._progress import MessagePrinter
    from dlhub_manifest.publish.files import wait_for_task

    status = wait_for_task(target, task_id, timeout=timeout, on_update=MessagePrinter(quiet=fmt == "json"))
    if fmt == "json":
        echo_json(status)
    else:
        last = status["messages"][-1]["text"] if status.get("messages") else ""
        click.echo(f"{status['status']}: {last}")
    return 0 if status["status"] == TaskStatus.SUCCEEDED else 1


def _show_plan(target: Target, prepared: Prepared, fmt: str) -> int:
    from dlhub_manifest.publish.plan import make_plan

    plan = make_plan(target, prepared)
    if fmt == "json":
        echo_json({**plan.to_dict(), "dry_run": True})
    else:
        click.echo("\n".join(render_plan(plan, target.description)))
    return 1 if plan.outcome == "conflict" else 0


def render_plan(plan: Plan, where: str) -> list[str]:
    """The dry-run plan as text lines."""
    from dlhub_manifest.util.humanize import human_size

    source = f" ({plan.version_source})" if plan.version_source else ""
    lines = [f"dry run: {plan.message} to the {where}", f"  version: {plan.version}{source}",
             f"  files: {len(plan.files)}, {human_size(sum(f.size for f in plan.files))}; "
             f"new: {sum(f.new for f in plan.files)}, {human_size(plan.new_bytes)}"]
    lines += [f"    {'new   ' if f.new else 'stored'}  {human_size(f.size):>10}  {short(f.sha256)}  {f.path}"
              for f in plan.files]
    if plan.latest is None:
        lines.append("  metadata: first version of this servable")
    elif not plan.changes:
        lines.append(f"  metadata: same as {plan.latest}")
    else:
        lines.append(f"  metadata changes since {plan.latest}:")
        lines += [f"    {c.field}: {_value(c.old)} -> {_value(c.new)}" for c in plan.changes]
    lines.append("nothing was written")
    return lines


def _value(value: Any) -> str:
    text = "(absent)" if value is None else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
