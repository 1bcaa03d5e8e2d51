"""Complete capture: imported project modules ship with the servable, requirements files become pins, and
third-party imports the dependencies do not name are warned about."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dlhub_manifest.build import build, build_report
from dlhub_manifest.errors import InvalidManifestError

HEADER = "manifest_version: 1\nname: {name}\ntitle: T\ncreators: [\"A, B\"]\n"
SHAPES = '''class Square:
    def __init__(self, side: float) -> None:
        self.side = side

    def area(self, scale: float) -> float:
        return self.side * self.side * scale
'''


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(tmp_path / "cache"))


def pickled_class_project(root: Path, files: str) -> Path:
    """A class_method servable whose pickled object's class lives in the project's shapes.py."""
    root.mkdir()
    (root / "shapes.py").write_text(SHAPES)
    subprocess.run([sys.executable, "-c", "import pickle, shapes; pickle.dump(shapes.Square(2.0), "
                    "open('square.pkl', 'wb'))"], cwd=root, check=True, env={"PYTHONPATH": str(root)})
    (root / "dlhub.yaml").write_text(HEADER.format(name="square") + "servable:\n  type: class_method\n  options:\n"
                                     "    object: square.pkl\n    method: area\n" + files)
    return root


def test_the_module_of_a_pickled_class_is_added_to_the_files(tmp_path: Path) -> None:
    project = pickled_class_project(tmp_path / "p", "")
    document = build(project)
    assert document["dlhub"]["files"] == {"pickle": "square.pkl", "other": ["shapes.py"]}


def test_a_module_that_files_exclude_leaves_out_is_an_error_naming_it(tmp_path: Path) -> None:
    project = pickled_class_project(tmp_path / "p", "files:\n  include: ['**']\n  exclude: [shapes.py]\n")
    with pytest.raises(InvalidManifestError) as caught:
        build(project)
    messages = [d.message + " / " + (d.hint or "") for d in caught.value.diagnostics]
    assert len(messages) == 1
    assert "'shapes' (shapes.py), which files.exclude leaves out" in messages[0]
    assert "remove the pattern that matches shapes.py from files.exclude" in messages[0]


def static_project(root: Path, code: str, extra: str = "", requirements: str | None = None) -> Path:
    root.mkdir()
    (root / "app.py").write_text(code)
    if requirements is not None:
        (root / "requirements.txt").write_text(requirements)
    (root / "dlhub.yaml").write_text(HEADER.format(name="app") + "servable:\n  type: static_method\n  options:\n"
                                     "    function: app:run\n" + extra)
    return root


TYPED = "def run(x: list[float]) -> list[float]:\n    return x\n"


def test_requirements_become_pins_versions_and_specifiers_as_written(tmp_path: Path) -> None:
    reqs = ("# the model's packages\nnumpy==1.26.4\nscikit-learn>=1.3,<2  # any 1.x\nrequests ; python_version < '3'\n"
            "tqdm\nrich[jupyter]==13.0.0\n")
    project = static_project(tmp_path / "p", TYPED, "dependencies:\n  requirements: requirements.txt\n"
                             "  python:\n    tqdm: '4.66.0'\n", reqs)
    document, report = build_report(project)
    assert document is not None, report.diagnostics
    assert document["dlhub"]["dependencies"]["python"] == {
        "numpy": "1.26.4", "scikit-learn": "<2,>=1.3", "tqdm": "4.66.0", "rich[jupyter]": "13.0.0"}


def test_a_requirement_that_is_not_pep508_is_an_error_with_its_line(tmp_path: Path) -> None:
    project = static_project(tmp_path / "p", TYPED, "dependencies:\n  requirements: requirements.txt\n",
                             "numpy==1.0\nnot a requirement!\n")
    with pytest.raises(InvalidManifestError) as caught:
        build(project)
    assert "requirements.txt line 2: 'not a requirement!' is not a PEP 508 requirement" in str(caught.value)


def test_a_pip_option_in_requirements_is_a_warning(tmp_path: Path) -> None:
    project = static_project(tmp_path / "p", TYPED, "dependencies:\n  requirements: requirements.txt\n",
                             "--index-url https://example.org/simple\n")
    _, report = build_report(project)
    assert [d.severity for d in report.diagnostics] == ["warning"]
    assert "pip option '--index-url' is not a dependency" in report.diagnostics[0].message


def _warnings(report: Any) -> list[str]:
    return [d.message for d in report.diagnostics if d.severity == "warning"]


def test_a_third_party_import_no_dependency_names_is_warned_about(tmp_path: Path) -> None:
    code = "import json\nimport yaml\nimport helper\n\n" + TYPED
    project = static_project(tmp_path / "p", code)
    (project / "helper.py").write_text("from packaging import version\n")
    document, report = build_report(project)
    assert document is not None
    assert sorted(document["dlhub"]["files"]["other"]) == ["app.py", "helper.py"]  # helper captured too
    assert _warnings(report) == [  # by package name
        "helper.py imports 'packaging' (package packaging), which the dependencies do not name",
        "app.py imports 'yaml' (package PyYAML), which the dependencies do not name"]


def test_named_dependencies_silence_the_warning(tmp_path: Path) -> None:
    project = static_project(tmp_path / "p", "import yaml\n\n" + TYPED, "dependencies:\n  python:\n    pyyaml: '6.0'\n")
    _, report = build_report(project)
    assert _warnings(report) == []


def test_publish_dry_run_says_which_modules_it_added(tmp_path: Path, run_cli: Any) -> None:
    project = pickled_class_project(tmp_path / "p", "")
    result = run_cli("publish", str(project), "--dry-run", "--registry", str(tmp_path / "registry"))
    assert "adding 1 imported project module(s) to the files: shapes.py" in result.stderr
    assert any(line.strip().endswith("shapes.py") for line in result.stdout.splitlines())


def test_a_scaffolded_keras_project_declares_its_backend(tmp_path: Path, run_cli: Any) -> None:
    from dlhub_manifest.build.requirements import requirement_pins
    from dlhub_manifest.manifest.load import load_file

    run_cli("new", "--type", "keras", "--no-input", "-o", str(tmp_path / "k"))
    doc, _ = load_file(tmp_path / "k")
    assert doc is not None
    pins, problems = requirement_pins(doc)
    assert problems == [] and pins == {"keras": ">=3.0", "torch": ">=2.1"}
