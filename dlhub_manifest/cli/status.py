"""`dlhub-manifest status`: a publication task's status and messages, optionally waiting for its end."""

from __future__ import annotations

from pathlib import Path

import click

from dlhub_manifest.cli._registry_opts import echo_json, format_option, get_target, target_options
from dlhub_manifest.registry.contracts import TaskStatus


@click.command("status")
@click.argument("task_id")
@click.option("--wait", is_flag=True, help="Follow the task until it succeeds or fails.")
@click.option("--timeout", type=click.FloatRange(min=0), help="With --wait: give up waiting after this many seconds.")
@target_options
@format_option
def status_command(task_id: str, wait: bool, timeout: float | None, registry: Path | None, target: str | None,
                   fmt: str) -> int:
    """Show a publication task: queued, running, succeeded or failed, with its messages.

    A task whose worker died is queued again (or failed after three attempts), never left running.
    Exit status: 0 succeeded, queued or running; 1 failed, or still not done when --timeout ran out.

    Example: dlhub-manifest status 0b6f9f2e-3c1d-4c8e-9f5e-2d7c1a3b4e5f --wait --timeout 600
    """
    chosen = get_target(registry, target)
    if wait:
        from dlhub_manifest.cli.publish import follow

        return follow(chosen, task_id, timeout, fmt)
    status = chosen.task(task_id)
    if fmt == "json":
        echo_json(status)
    else:
        click.echo(f"task {status['task_id']}: {status['status']}"
                   + (f" ({status['servable']})" if status.get("servable") else ""))
        for message in status.get("messages") or []:
            click.echo(f"  {message.get('level', 'info')}: {message.get('text', '')}")
    return 1 if status["status"] == TaskStatus.FAILED else 0
