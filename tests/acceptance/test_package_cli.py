"""`dlhub-manifest package`: the zip's contents, determinism, JSON output, and clear failures (no traceback)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

MANIFEST = """manifest_version: 1
name: iris-classifier
title: Iris species classifier
version: 1.2.0
creators: ["Ward, Logan"]
servable:
  type: sklearn
  options: {model: model.pkl, n_input_columns: 4, classes: [setosa, versicolor, virginica]}
files:
  include: ["**"]
  exclude: ["tests/**"]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "iris"
    (root / "src").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "dlhub.yaml").write_text(MANIFEST)
    (root / "model.pkl").write_bytes(b"\x80\x04weights")  # never unpickled: every run uses --no-inspect
    (root / "src" / "features.py").write_text("COLUMNS = 4\n")
    (root / "tests" / "test_model.py").write_text("")
    (root / "cache.tmp").write_text("scratch")
    (root / ".gitignore").write_text("*.tmp\n*.pkl\n")  # the model is kept even though it is ignored
    return root


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dlhub_manifest", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_package_writes_the_servable_zip(project: Path, tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    out = tmp_path / "dist" / "iris.zip"
    result = run_cli("package", str(project), "-o", str(out), "--no-inspect")
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert result.stdout.strip().startswith(f"wrote {out} (")
    assert result.stdout.strip().endswith(f"sha256 {digest})")
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist() == ["dlhub.json", "dlhub.yaml", "model.pkl", "src/features.py"]
        document = json.loads(zf.read("dlhub.json"))
        assert zf.read("model.pkl") == b"\x80\x04weights"
    assert document["dlhub"]["name"] == "iris-classifier"
    assert document["dlhub"]["version"] == "1.2.0"
    assert document["dlhub"]["files"]["model"] == "model.pkl"


def test_two_runs_are_byte_identical_and_json_reports_them(project: Path, tmp_path: Path,
                                                           run_cli: Callable[..., Result]) -> None:
    reports = []
    for name in ("a.zip", "b.zip"):
        out = tmp_path / name
        reports.append(json.loads(run_cli("package", str(project), "-o", str(out), "--no-inspect",
                                          "--format", "json").stdout))
        (project / "src" / "features.py").touch()  # a newer mtime must not change anything
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert reports[0]["sha256"] == reports[1]["sha256"] == hashlib.sha256((tmp_path / "a.zip").read_bytes()).hexdigest()
    assert reports[0]["size"] == (tmp_path / "a.zip").stat().st_size


def test_default_output_in_the_project_never_packs_itself(project: Path, run_cli: Callable[..., Result]) -> None:
    run_cli("package", "--no-inspect", cwd=project)
    first = (project / "servable.zip").read_bytes()
    run_cli("package", "--no-inspect", cwd=project)
    assert (project / "servable.zip").read_bytes() == first
    with zipfile.ZipFile(project / "servable.zip") as zf:
        assert "servable.zip" not in zf.namelist()


def test_end_to_end_in_a_real_process(project: Path, tmp_path: Path) -> None:
    proc = run("package", "dlhub.yaml", "-o", str(tmp_path / "s.zip"), "--no-inspect", cwd=project)
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(tmp_path / "s.zip") as zf:
        assert zf.testzip() is None and "dlhub.json" in zf.namelist()


def test_invalid_manifest_is_reported_with_its_line_and_nothing_written(project: Path, tmp_path: Path) -> None:
    (project / "dlhub.yaml").write_text(MANIFEST.replace("n_input_columns: 4", "n_input_columns: four"))
    proc = run("package", str(project), "-o", str(tmp_path / "s.zip"), "--no-inspect")
    assert proc.returncode == 1
    assert f"{project / 'dlhub.yaml'}:8:" in proc.stderr and "n_input_columns" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "s.zip").exists()


def test_symlink_leaving_the_project_fails_clearly(project: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("do not ship")
    (project / "src" / "leak.txt").symlink_to(tmp_path / "secret.txt")
    out = tmp_path / "s.zip"
    out.write_bytes(b"previous zip")
    proc = run("package", str(project), "-o", str(out), "--no-inspect")
    assert proc.returncode == 1
    assert "'src/leak.txt' is a symlink that points outside the project" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert out.read_bytes() == b"previous zip"


def test_packaging_an_example_with_inspection(tmp_path: Path, repo_root: Path) -> None:
    project = shutil.copytree(repo_root / "examples" / "static_method", tmp_path / "poly")
    proc = run("package", str(project), "-o", str(tmp_path / "poly.zip"), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    with zipfile.ZipFile(tmp_path / "poly.zip") as zf:
        assert zf.namelist() == ["dlhub.json", "coefficients.json", "dlhub.yaml", "polyfit.py"]
        servable = json.loads(zf.read("dlhub.json"))["servable"]
    assert servable["methods"]["run"]["input"]  # filled in by inspecting the function
