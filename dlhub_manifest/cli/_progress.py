"""Publication progress on stderr: a line per stage, and a byte bar while hashing or uploading in a terminal."""

from __future__ import annotations

import sys
from typing import Any

import click

from dlhub_manifest.publish.files import Progress
from dlhub_manifest.registry.contracts import TaskInfo


class StderrProgress(Progress):
    """Stage lines always; a click progress bar for byte-counted steps only when stderr is a terminal."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._bar: Any = None

    def stage(self, text: str) -> None:
        if not self.quiet:
            click.echo(text, err=True)

    def begin(self, label: str, total: int) -> None:
        if not self.quiet and total > 0 and sys.stderr.isatty():
            self._bar = click.progressbar(length=total, label=label, file=sys.stderr)
            self._bar.__enter__()

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def end(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


class MessagePrinter:
    """Prints a task's messages as they arrive (each once), for `--wait`."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.seen = 0

    def __call__(self, status: TaskInfo) -> None:
        messages = status.get("messages") or []
        for message in messages[self.seen:]:
            if not self.quiet:
                click.echo(f"  {message.get('level', 'info')}: {message.get('text', '')}", err=True)
        self.seen = len(messages)
