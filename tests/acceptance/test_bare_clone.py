"""A bare `git clone` runs the tests: DLHub reference cross-checks skip with the reason when the reference is
absent (and fail when CI requires it), a missing optional test tool skips its module instead of aborting
collection, and `.ci/run` insists on the reference before running the README's test command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ORACLE_TEST = "tests/unit/test_build_document.py::test_the_peer_document_itself_passes_both_schemas"


def _pytest(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run pytest on this repository in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if k != "DLHUB_REFERENCE_REQUIRED"}
    full_env.update({"PYTHONPATH": str(REPO), **(env or {})})
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
                          cwd=REPO, env=full_env, capture_output=True, text=True, timeout=120)


def test_reference_cross_check_is_skipped_with_the_reason_when_absent(tmp_path: Path) -> None:
    missing = tmp_path / "no-reference"
    result = _pytest(ORACLE_TEST, env={"DLHUB_MANIFEST_REFERENCE": str(missing)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert f"DLHub reference schemas not found at {missing}" in result.stdout


def test_reference_cross_check_fails_when_ci_requires_the_reference(tmp_path: Path) -> None:
    missing = tmp_path / "no-reference"
    result = _pytest(ORACLE_TEST, env={"DLHUB_MANIFEST_REFERENCE": str(missing),
                                                 "DLHUB_REFERENCE_REQUIRED": "1"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout and "DLHUB_REFERENCE_REQUIRED=1 requires it" in result.stdout


def test_collection_survives_a_missing_schemathesis(tmp_path: Path) -> None:
    # a package that shadows it and fails to import, as an uninstalled one would (its pytest plugin, which an
    # uninstalled package would not register, is switched off)
    shadow = tmp_path / "shadow" / "schemathesis"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'schemathesis'\")\n")
    result = _pytest("-p", "no:schemathesis", "--collect-only", "tests/acceptance/test_http_openapi.py",
                     env={"PYTHONPATH": f"{shadow.parent}{os.pathsep}{REPO}"})
    assert result.returncode == 5, result.stdout + result.stderr  # 5: nothing collected; 2 would be an abort
    assert "SKIPPED [1] tests/acceptance/test_http_openapi.py" in result.stdout
    assert "schemathesis is not installed" in result.stdout


def _ci_checkout(tmp_path: Path) -> tuple[Path, Path]:
    """A checkout holding only .ci/run; on PATH a `python` that records its arguments and environment, and an
    `apt-get` (with `sudo`) that does nothing."""
    checkout = tmp_path / "work" / "repo"
    (checkout / ".ci").mkdir(parents=True)
    shutil.copy2(REPO / ".ci" / "run", checkout / ".ci" / "run")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fakes = {"python": f'echo "$DLHUB_REFERENCE_REQUIRED $*" >> {tmp_path / "calls"}',
             "apt-get": "exit 0",  # .ci/run installs Chromium when it is missing: not from a test
             "sudo": 'exec "$@"'}
    for name, body in fakes.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    return checkout, bin_dir


def _run_ci(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    checkout, bin_dir = _ci_checkout(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in ("DLHUB_MANIFEST_REFERENCE", "DLHUB_REFERENCE_REQUIRED")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    return subprocess.run(["bash", str(checkout / ".ci" / "run")], env=env, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_ci_refuses_to_run_without_the_reference(tmp_path: Path) -> None:
    result = _run_ci(tmp_path)
    assert result.returncode == 1
    assert "DLHub reference not found at ../shared/reference/dlhub_schemas/schemas" in result.stderr
    assert not (tmp_path / "calls").exists()


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_ci_runs_the_readme_command_with_the_reference_required(tmp_path: Path) -> None:
    for folder in ("dlhub_schemas/schemas", "peer-examples"):
        (tmp_path / "work" / "shared" / "reference" / folder).mkdir(parents=True)
    result = _run_ci(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "calls").read_text().splitlines() == ["1 -m pip install -e .[test]", "1 -m pytest"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "python -m pip install -e '.[test]' && python -m pytest" in readme
