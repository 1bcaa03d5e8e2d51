"""Several processes publishing to one registry at once: every task succeeds, every version is there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from publish_support import make_project

from dlhub_manifest.registry.check import check_registry
from dlhub_manifest.targets.local import LocalTarget

PROCESSES, PUBLISHES = 4, 5
PUBLISHER = """
import sys
from pathlib import Path
from dlhub_manifest.api import get_task_status, publish_servable
project, registry = Path(sys.argv[1]), sys.argv[2]
for i in range(int(sys.argv[3])):
    (project / "weights.bin").write_bytes(f"{project.name} weights {i}".encode())
    task = publish_servable(project, registry=registry, inspect=False, wait=True, timeout=120)
    print(get_task_status(task, registry=registry)["result"]["version"], flush=True)
"""


def test_four_processes_publishing_five_versions_each(tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    env = {**os.environ, "DLHUB_MANIFEST_CACHE_DIR": str(tmp_path / "cache")}
    procs = []
    for n in range(PROCESSES):
        project = make_project(tmp_path / f"p{n}", name=f"demo-{n}")
        procs.append(subprocess.Popen([sys.executable, "-c", PUBLISHER, str(project), str(registry), str(PUBLISHES)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out.split() == [f"0.1.{i}" for i in range(PUBLISHES)]
    listed = LocalTarget(registry).list_servables()
    assert sorted((s["name"], len(s["versions"])) for s in listed) == [(f"demo-{n}", PUBLISHES)
                                                                       for n in range(PROCESSES)]
    report = check_registry(registry)
    assert report.ok and report.versions == PROCESSES * PUBLISHES and report.orphans == []
