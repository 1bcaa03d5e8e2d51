"""What makes re-publishing cheap, through the CLI: an unchanged model is not inspected again (unless
--no-cache), a changed one is, and publishing imports none of the heavy libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from dlhub_manifest.package import hashcache

RunCli = Callable[..., Result]
HEAVY = ("jsonschema", "globus_sdk", "git", "cookiecutter", "starlette", "uvicorn", "requests", "httpx", "numpy",
         "sklearn", "torch", "keras", "tensorflow")
MANIFEST = """\
manifest_version: 1
name: marked
title: Counts its inspections
creators: ["Doe, Jane"]
servable:
  type: static_method
  options:
    function: app:run
files: ["*.py", notes.txt]
"""
# Importing the module leaves a marker folder (an mkdir is not a file the inspection cache depends on).
APP = """\
import os, uuid
os.mkdir(os.path.join({markers!r}, uuid.uuid4().hex))

def run(x: list[float]) -> list[{kind}]:
    return x
"""


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "registry"
    monkeypatch.setenv("DLHUB_MANIFEST_REGISTRY", str(root))
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(hashcache.NO_CACHE_ENV, raising=False)
    monkeypatch.setattr(hashcache, "RACY_NS", 0)  # files this test just wrote may be remembered at once
    return root


def _project(folder: Path, markers: Path, kind: str = "float") -> Path:
    folder.mkdir(exist_ok=True)
    markers.mkdir(exist_ok=True)
    (folder / "dlhub.yaml").write_text(MANIFEST, encoding="utf-8")
    (folder / "app.py").write_text(APP.format(markers=str(markers), kind=kind), encoding="utf-8")
    (folder / "notes.txt").write_text("v1\n", encoding="utf-8")
    return folder


def _publish(run_cli: RunCli, project: Path, *options: str) -> dict[str, object]:
    out = run_cli("publish", str(project), "--wait", "--format", "json", *options)
    status = json.loads(out.stdout)
    assert status["status"] == "succeeded", status
    return status


def _output_item(run_cli: RunCli, version: str) -> object:
    owner = json.loads(run_cli("list", "--format", "json").stdout)[0]["owner"]
    shown = json.loads(run_cli("show", f"{owner}/marked@{version}", "--format", "json").stdout)
    return shown["document"]["servable"]["methods"]["run"]["output"]["item_type"]


def test_republishing_an_unchanged_model_does_not_inspect_it_again(run_cli: RunCli, registry: Path,
                                                                   tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    project = _project(tmp_path / "p", markers)
    _publish(run_cli, project)
    assert len(list(markers.iterdir())) == 1

    (project / "notes.txt").write_text("v2\n", encoding="utf-8")  # shipped, but not read by the inspection
    _publish(run_cli, project)
    assert len(list(markers.iterdir())) == 1
    assert _output_item(run_cli, "0.1.1") == _output_item(run_cli, "0.1.0") == {"type": "float"}

    (project / "notes.txt").write_text("v3\n", encoding="utf-8")
    _publish(run_cli, project, "--no-cache")
    assert len(list(markers.iterdir())) == 2

    _project(project, markers, kind="int")  # the model's own code changed: inspected again, new result
    _publish(run_cli, project)
    assert len(list(markers.iterdir())) == 3
    assert _output_item(run_cli, "0.1.3") == {"type": "integer"}


def test_publishing_imports_no_heavy_library(registry: Path, tmp_path: Path) -> None:
    project = _project(tmp_path / "p", tmp_path / "markers")
    code = ("import json, sys\nfrom dlhub_manifest.cli import main\ntry:\n    main(sys.argv[1:])\n"
            "except SystemExit as e:\n    code = e.code\n"
            f"print(json.dumps([code, sorted(m for m in {HEAVY!r} if m in sys.modules)]))")
    env = {**os.environ, "DLHUB_MANIFEST_REGISTRY": str(registry), "DLHUB_MANIFEST_CACHE_DIR": str(tmp_path / "c")}
    out = subprocess.run([sys.executable, "-c", code, "publish", str(project), "--wait"], capture_output=True,
                         text=True, env=env, timeout=120)
    assert json.loads(out.stdout.splitlines()[-1]) == [0, []], out.stderr
