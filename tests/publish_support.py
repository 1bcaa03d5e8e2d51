"""Helpers for the registry and publish tests: tiny projects, git repositories, task waiting."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from dlhub_manifest.registry.worker import run_worker
from dlhub_manifest.targets.local import LocalTarget

MANIFEST = """\
manifest_version: 1
name: {name}
title: {title}
description: Doubles numbers.
creators: ["Ward, Logan"]
keywords: [doubling]
{version}servable:
  type: static_method
  options:
    function: demo:run
  methods:
    run:
      input: {{type: list, description: numbers, item_type: {{type: float}}}}
      output: {{type: list, description: doubled, item_type: {{type: float}}}}
files: [weights.bin]
"""


def make_project(folder: Path, *, name: str = "demo", title: str = "Demo servable", version: str | None = None,
                 weights: bytes = b"weights v1\n") -> Path:
    """A small static_method project that builds without inspection (its method is declared)."""
    folder.mkdir(parents=True, exist_ok=True)
    line = f"version: {version}\n" if version else ""
    (folder / "dlhub.yaml").write_text(MANIFEST.format(name=name, title=title, version=line), encoding="utf-8")
    (folder / "demo.py").write_text("def run(x):\n    return [2 * v for v in x]\n", encoding="utf-8")
    (folder / "weights.bin").write_bytes(weights)
    return folder


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed identity; returns stdout."""
    cmd = ["git", "-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "commit.gpgsign=false",
           "-c", "tag.gpgsign=false", *args]
    return subprocess.run(cmd, cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def make_repo(folder: Path, *, tag: str | None = None, **project: Any) -> Path:
    """A git repository holding a committed project (optionally tagged)."""
    make_project(folder, **project)
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "project")
    if tag:
        git(folder, "tag", tag)
    return folder


def wait_done(target: Any, task_id: str, timeout: float = 60.0) -> dict[str, Any]:
    """Poll `target.task` until the task succeeds or fails (the worker runs in its own process)."""
    from dlhub_manifest.publish.files import wait_for_task

    return wait_for_task(target, task_id, timeout=timeout)


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    """Wait until `predicate()` is true (for things other processes do); fails the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


class InProcessTarget(LocalTarget):
    """The local target with the worker run in this process right after submitting (no subprocess)."""

    def publish(self, request: dict[str, Any]) -> str:
        task_id = self.service.publish(self.identity, request)
        run_worker(self.root, idle=0)
        return task_id


# importing the servable's module (what inspection does) leaves a marker: its absence proves nothing was inspected
MARKING_APP = '''
from pathlib import Path
Path(__file__).with_name("inspected").touch()

def run(x: list[float]) -> list[float]:
    return x
'''
MARKING_MANIFEST = """\
manifest_version: 1
name: probe
title: A test servable
creators: ["Doe, Jane"]
servable: {type: static_method, options: {function: "app:run"}}
files: [app.py]
"""


def marking_project(root: Path) -> Path:
    """A static_method project whose module, once imported for inspection, leaves the file `inspected` beside it."""
    root.mkdir(parents=True)
    (root / "dlhub.yaml").write_text(MARKING_MANIFEST)
    (root / "app.py").write_text(MARKING_APP)
    return root
