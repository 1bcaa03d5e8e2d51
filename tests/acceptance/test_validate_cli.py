"""`dlhub-manifest validate`: formats, exit codes, defaults, and no traceback through a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

BROKEN = """manifest_version: 1
name: iris
title: Iris
creators: ["Ward, Logan"]
servable:
  type: sklearn
  options:
    model: model.pkl
    n_input_columns: four
"""


def write(tmp_path: Path, text: str = BROKEN) -> Path:
    (tmp_path / "model.pkl").write_bytes(b"x")
    path = tmp_path / "dlhub.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_text_reads_like_a_compiler(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    path = write(tmp_path)
    out = run_cli("validate", str(path), expect=1).stdout
    assert f"{path}:9:5: servable.options.n_input_columns: 'four' is not an integer (hint: " in out
    assert out.strip().endswith("1 problem in 1 file")


def test_directory_and_default_path(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    write(tmp_path, BROKEN.replace("four", "4"))
    assert run_cli("validate", str(tmp_path)).stdout.strip() == f"{tmp_path / 'dlhub.yaml'}: ok"
    assert run_cli("validate", cwd=tmp_path).stdout.strip() == "dlhub.yaml: ok"


def test_json_format(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    path = write(tmp_path)
    data = json.loads(run_cli("validate", "--format", "json", str(path), expect=1).stdout)
    assert data["valid"] is False
    [diag] = data["files"][0]["diagnostics"]
    assert (diag["line"], diag["column"], diag["field"]) == (9, 5, "servable.options.n_input_columns")
    assert diag["path"] == ["servable", "options", "n_input_columns"] and diag["hint"]


def test_github_annotations(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    path = write(tmp_path)
    out = run_cli("validate", "--format", "github", str(path), expect=1).stdout.strip()
    assert out.startswith(f"::error file={path},line=9,col=5,title=servable.options.n_input_columns::")
    assert "'four' is not an integer" in out


def test_sarif(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    path = write(tmp_path)
    sarif = json.loads(run_cli("validate", "--format", "sarif", str(path), expect=1).stdout)
    assert sarif["version"] == "2.1.0"
    [result] = sarif["runs"][0]["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (9, 5)
    assert result["level"] == "error" and result["ruleId"] == "dlhub-manifest/servable"


def test_several_files_report_all(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    write(a)
    write(b, BROKEN.replace("name: iris", "name: Iris Classifier"))
    out = run_cli("validate", str(a), str(b), expect=1).stdout
    assert "3 problems in 2 files" in out or "2 problems in 2 files" in out
    assert str(a / "dlhub.yaml") in out and str(b / "dlhub.yaml") in out


def test_missing_file_is_an_error_not_a_crash(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    out = run_cli("validate", str(tmp_path / "nope.yaml"), expect=1).stdout
    assert "nope.yaml: file not found" in out


def test_usage_error_exit_code(run_cli: Callable[..., Result]) -> None:
    result = run_cli("validate", "--format", "xml", expect=2)
    assert "Invalid value for '--format'" in result.stderr


def test_real_process_has_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "dlhub.yaml"
    path.write_bytes(b"\xff\xfe garbage: [unclosed\n\t- x: !!python/name:os.system\n")
    proc = subprocess.run([sys.executable, "-m", "dlhub_manifest", "validate", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"{path}:1:1: not valid UTF-8" in proc.stdout


def test_schema_command_prints_the_shipped_schema(run_cli: Callable[..., Result], repo_root: Path) -> None:
    printed = json.loads(run_cli("schema").stdout)
    shipped = json.loads((repo_root / "schemas" / "dlhub-manifest.v1.schema.json").read_text(encoding="utf-8"))
    assert printed == shipped
    assert run_cli("schema", "--version", "7", expect=2).stderr.startswith("error: no schema")
