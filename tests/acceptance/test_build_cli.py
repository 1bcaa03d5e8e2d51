"""`dlhub-manifest build` end to end: every example builds, validates against DLHub's schemas, byte-identically."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from dlhub_oracle import validate_servable

from dlhub_manifest.build import check_document
from dlhub_manifest.cli import cli

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p.parent.name for p in (REPO / "examples").glob("*/dlhub.yaml"))
HEAVY = ("numpy", "sklearn", "torch", "keras", "tensorflow", "h5py", "globus_sdk", "git", "starlette")


def _copy(name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(REPO / "examples" / name, tmp_path / name,
                                ignore=shutil.ignore_patterns("__pycache__", "dlhub.json")))


def _run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "dlhub_manifest", *args], cwd=cwd, capture_output=True, timeout=300)


def test_all_six_servable_types_have_an_example() -> None:
    assert EXAMPLES == ["class_method", "keras", "pytorch", "sklearn", "static_method", "tensorflow"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_builds_twice_byte_identically_and_validates(name: str, tmp_path: Path) -> None:
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    for out in (first, second):
        proc = _run("build", f"examples/{name}", "-o", str(out))
        assert proc.returncode == 0, proc.stderr.decode()
        assert proc.stdout.decode() == f"wrote {out}\n"
    assert first.read_bytes() == second.read_bytes()
    document = json.loads(first.read_bytes())
    validate_servable(document)
    assert check_document(document) == []
    assert not (REPO / "examples" / name / "dlhub.json").exists()


def test_default_output_is_dlhub_json_next_to_the_manifest(tmp_path: Path) -> None:
    project = _copy("static_method", tmp_path)
    result = CliRunner().invoke(cli, ["build", str(project)])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"wrote {project / 'dlhub.json'}\n"
    document = json.loads((project / "dlhub.json").read_text("utf-8"))
    assert document["dlhub"]["name"] == "polyfit-surrogate"
    assert (project / "dlhub.json").read_bytes().endswith(b"}\n")


def test_format_json_prints_the_document_and_writes_nothing(tmp_path: Path) -> None:
    project = _copy("static_method", tmp_path)
    result = CliRunner().invoke(cli, ["build", str(project / "dlhub.yaml"), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["servable"]["methods"]["run"]["parameters"] == {"clip": False}
    assert not (project / "dlhub.json").exists()


def test_invalid_manifest_exit_1_located_message_nothing_written(tmp_path: Path) -> None:
    project = _copy("static_method", tmp_path)
    manifest = project / "dlhub.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace("name: polyfit-surrogate", "name: Polyfit Surrogate"))
    result = CliRunner().invoke(cli, ["build", str(project)])
    assert result.exit_code == 1
    assert f"{manifest}:3:1: name: 'Polyfit Surrogate'" in result.stderr
    assert result.stdout == ""
    assert not (project / "dlhub.json").exists()


def test_failed_inspection_is_a_diagnostic_not_a_traceback(tmp_path: Path) -> None:
    project = _copy("sklearn", tmp_path)
    (project / "model.pkl").write_bytes(b"not a pickle")
    proc = _run("build", str(project))
    stderr = proc.stderr.decode()
    assert proc.returncode == 1
    assert f"{project / 'dlhub.yaml'}:17:5: servable.options.model: inspection failed: UnpicklingError" in stderr
    assert "Traceback" not in stderr
    assert not (project / "dlhub.json").exists()


def test_no_inspect_builds_from_the_manifest_alone(tmp_path: Path) -> None:
    project = _copy("sklearn", tmp_path)
    (project / "model.pkl").write_bytes(b"not a pickle, never opened")
    result = CliRunner().invoke(cli, ["build", str(project), "--no-inspect", "--format", "json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["dlhub"]["dependencies"]["python"] == {}
    validate_servable(document)


def test_output_inside_the_project_is_not_listed_as_a_file(tmp_path: Path) -> None:
    project = _copy("static_method", tmp_path)
    manifest = project / "dlhub.yaml"
    manifest.write_text(manifest.read_text("utf-8").replace("files: [coefficients.json]", 'files: ["**"]'))
    for _ in range(2):
        result = CliRunner().invoke(cli, ["build", str(project), "-o", str(project / "meta" / "out.json")])
        assert result.exit_code == 0, result.output
    document = json.loads((project / "meta" / "out.json").read_text("utf-8"))
    assert document["dlhub"]["files"]["other"] == ["coefficients.json", "polyfit.py"]


def test_usage_errors_exit_2() -> None:
    result = CliRunner().invoke(cli, ["build", "examples/sklearn", "--timeout", "0"])
    assert result.exit_code == 2
    assert "--timeout" in result.stderr


@pytest.mark.parametrize("name", ["keras", "tensorflow", "static_method"])
def test_build_loads_no_framework_in_the_main_process(name: str, tmp_path: Path) -> None:
    code = ("import sys, json\nfrom dlhub_manifest.cli import main\n"
            "try:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
            "sys.stdout = sys.__stdout__\n"
            "print(json.dumps([code, sorted({m.split('.')[0] for m in sys.modules})]))")
    out = subprocess.run([sys.executable, "-c", code, "build", f"examples/{name}", "-o", str(tmp_path / "d.json")],
                         cwd=REPO, capture_output=True, text=True, timeout=120)
    code_, modules = json.loads(out.stdout.strip().splitlines()[-1])
    assert code_ == 0, out.stderr
    assert not set(modules) & set(HEAVY), sorted(set(modules) & set(HEAVY))
