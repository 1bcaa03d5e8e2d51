"""`dlhub-manifest validate` must not import heavy libraries: a fresh process shows what it really loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VALID = REPO / "tests" / "examples" / "valid" / "full-static"
INVALID = REPO / "tests" / "examples" / "invalid" / "type-n-input-columns.yaml"

HEAVY = ("globus_sdk", "git", "cookiecutter", "starlette", "uvicorn", "numpy", "sklearn", "torch", "keras",
         "tensorflow", "requests", "httpx", "jinja2", "markdown_it")

# Runs the CLI the way the console script does, then reports the exit code and every loaded top-level package.
PROBE = """
import json, sys
from dlhub_manifest.cli import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    code = e.code
sys.stdout = sys.__stdout__
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def _loaded(*args: str) -> tuple[int, set[str]]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True,
                          cwd=REPO, timeout=60)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


@pytest.mark.parametrize(("path", "code"), [(VALID, 0), (INVALID, 1)], ids=["valid", "invalid"])
def test_validate_imports_no_heavy_library(path: Path, code: int) -> None:
    exit_code, modules = _loaded("validate", "--format", "json", str(path))
    assert exit_code == code
    assert "dlhub_manifest" in modules and "yaml" in modules
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_valid_manifest_does_not_import_jsonschema() -> None:
    """The compiled schema check answers for valid manifests; jsonschema loads only to explain problems."""
    assert "jsonschema" not in _loaded("validate", str(VALID))[1]
    assert "jsonschema" in _loaded("validate", str(INVALID))[1]


def test_help_imports_no_command_module() -> None:
    exit_code, modules = _loaded("--help")
    assert exit_code == 0
    assert not modules & {*HEAVY, "jsonschema"}


CITATION_LIBRARIES = {"datacite", "lxml", "pyld", "bibtexparser", "jsonschema"}


def test_validate_with_citation_files_and_export_import_no_heavy_or_citation_library(tmp_path: Path) -> None:
    """Cross-checking a CITATION.cff and exporting a text format stay as light as validate."""
    project = tmp_path / "proj"
    project.mkdir()
    (project / "dlhub.yaml").write_text((VALID / "dlhub.yaml").read_text("utf-8"), encoding="utf-8")
    exit_code, modules = _loaded("export", str(project), "--to", "cff", "-o", str(project / "CITATION.cff"))
    assert exit_code == 0
    assert not modules & {*HEAVY, *CITATION_LIBRARIES}, sorted(modules & {*HEAVY, *CITATION_LIBRARIES})
    cff = project / "CITATION.cff"
    cff.write_text(cff.read_text("utf-8").replace("title: ", "title: Old "), encoding="utf-8")
    exit_code, modules = _loaded("validate", "--strict", "--no-files", str(project))
    assert exit_code == 1  # the cross-check ran and found the old title
    assert not modules & {*HEAVY, *CITATION_LIBRARIES}, sorted(modules & {*HEAVY, *CITATION_LIBRARIES})
