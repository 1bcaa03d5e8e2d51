"""The GitHub Actions side of publishing: the version a pushed tag names, step outputs, the job summary.

Pure functions over strings and files, so the action's logic is tested without GitHub.
Workflow files: https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dlhub_manifest.errors import UsageError
from dlhub_manifest.registry.contracts import TaskStatus
from dlhub_manifest.util.resources import manifest_schema

TAG_PREFIX = "refs/tags/"


@cache
def _version_pattern() -> re.Pattern[str]:
    return re.compile(manifest_schema()["properties"]["version"]["pattern"])


def version_from_ref(ref: str | None) -> str | None:
    """`refs/tags/v1.2.0` -> `1.2.0`; None for a branch or pull request (the registry then picks the version)."""
    if not ref or not ref.startswith(TAG_PREFIX):
        return None
    tag = ref[len(TAG_PREFIX):]
    version = tag[1:] if tag[:1] in ("v", "V") else tag
    if not _version_pattern().match(version):
        raise UsageError(f"tag {tag!r} does not name a semantic version; tag releases as vMAJOR.MINOR.PATCH "
                         "(for example v1.2.0), or set the action's `version` input")
    return version


def format_outputs(values: Mapping[str, str]) -> str:
    """`name=value` lines for $GITHUB_OUTPUT; multi-line values use a random heredoc delimiter."""
    lines = []
    for name, value in values.items():
        if "\n" in value or "\r" in value:
            delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
            lines.append(f"{name}<<{delimiter}\n{value}\n{delimiter}")
        else:
            lines.append(f"{name}={value}")
    return "".join(line + "\n" for line in lines)


def append_to(path: str | Path | None, text: str) -> None:
    """Append to a GitHub-provided file ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY); nothing when it is not set.

    These files are appended to by every step, so they are not replaced atomically.
    """
    if path:
        with Path(path).open("a", encoding="utf-8") as fh:
            fh.write(text)


def escape_data(text: str) -> str:
    """Escape a workflow command's message (`%`, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def error_command(message: str, title: str | None = None) -> str:
    """`::error title=...::message`, which fails nothing by itself but shows on the run's page."""
    props = f" title={escape_data(title).replace(':', '%3A').replace(',', '%2C')}" if title else ""
    return f"::error{props}::{escape_data(message)}"


@dataclass(frozen=True)
class Publication:
    """What the action reports about one publication (task fields are empty for a dry run)."""

    servable: str
    version: str
    task_id: str = ""
    status: str = ""
    document_url: str = ""
    target: str = ""
    dry_run: bool = False
    timed_out: bool = False
    message: str = ""  # the task's last message

    @property
    def ok(self) -> bool:
        """False when the task failed or waiting for it ran out of time (the job must fail)."""
        return not self.timed_out and self.status != TaskStatus.FAILED

    def headline(self) -> str:
        """One line for the log."""
        if self.dry_run:
            return f"dry run: {self.servable} {self.version or '(next version)'} built; nothing was published"
        state = f"still {self.status} when the wait timed out" if self.timed_out else self.status
        return f"{self.servable} {self.version}: task {self.task_id} {state}" + (
            f" ({self.message})" if self.message else "")

    def outputs(self) -> dict[str, str]:
        """The action's outputs."""
        return {"task-id": self.task_id, "servable": self.servable, "version": self.version,
                "status": self.status, "document-url": self.document_url}

    def summary(self) -> str:
        """Markdown for $GITHUB_STEP_SUMMARY."""
        heading = self._heading()
        rows = [("servable", f"`{self.servable}`"), ("version", f"`{self.version or '(assigned by the registry)'}`")]
        if not self.dry_run:
            status = f"**{self.status}**" + (" (waiting timed out)" if self.timed_out else "")
            rows += [("task", f"`{self.task_id}`"), ("status", status)]
            if self.message:
                rows.append(("message", self.message.replace("|", "\\|")))
        if self.target:
            rows.append(("registry", self.target))
        if self.document_url:
            rows.append(("document", f"[{self.document_url}]({self.document_url})"))
        elif self.status == TaskStatus.SUCCEEDED:
            rows.append(("document", f"`dlhub-manifest show {self.servable}@{self.version}`"))
        table = "\n".join(f"| {key} | {value} |" for key, value in rows)
        return f"### dlhub-manifest: {heading}\n\n| | |\n|---|---|\n{table}\n\n"

    def _heading(self) -> str:
        if self.dry_run:
            return "dry run, nothing was published"
        if not self.ok:
            return f"publishing `{self.servable}` failed"
        return f"{'published' if self.status == 'succeeded' else 'submitted'} `{self.servable}`"
