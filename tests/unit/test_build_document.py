"""The whole document: peer parity with dlhub_sdk 2.1.0, versions, provenance, declared methods, failures."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dlhub_oracle import PEER_EXAMPLES, peer_document, validate_servable
from test_build_support import REPO, copy_example, project, static_servable

from dlhub_manifest.build import build, build_document, check_document, dumps
from dlhub_manifest.errors import InvalidManifestError
from dlhub_manifest.manifest.load import load_file

# Not meaningful to compare (inputs.md of the peer example): the SDK's own version, a placeholder, an empty year.
MOMENT_OR_TOOL = {"dlhub.version"}
APP = '''
def run(x: list[float], scale: float = 2.0) -> list[float]:
    return [v * scale for v in x]
'''


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    """Every leaf of a JSON document by dotted path (lists by index)."""
    if isinstance(value, dict) and value:
        return {k: v for key, item in value.items() for k, v in _leaves(item, f"{path}.{key}".lstrip(".")).items()}
    if isinstance(value, list) and value:
        return {k: v for i, item in enumerate(value) for k, v in _leaves(item, f"{path}[{i}]").items()}
    return {path: value}


def test_sklearn_example_matches_the_dlhub_sdk_peer_document(tmp_path: Path, dlhub_reference: Path) -> None:
    target = copy_example("sklearn", tmp_path)
    shutil.copyfile(PEER_EXAMPLES / "sklearn-iris" / "model.pkl", target / "model.pkl")
    ours, theirs = _leaves(build(target)), _leaves(peer_document("sklearn-iris"))
    differing = {p: (ours.get(p), v) for p, v in theirs.items() if p not in MOMENT_OR_TOOL and ours.get(p) != v}
    assert differing == {}
    assert sorted(set(ours) - set(theirs)) == ["datacite.version", "provenance.tool"]


def test_the_peer_document_itself_passes_both_schemas() -> None:
    peer = peer_document("sklearn-iris")
    validate_servable(peer)
    assert check_document(peer) == []


def test_version_from_manifest_then_argument_then_default(tmp_path: Path) -> None:
    files = {"app.py": APP}
    plain = project(tmp_path / "a", static_servable(), files)
    assert build(plain, version="2.0.1")["dlhub"]["version"] == "2.0.1"
    document = build(plain)
    assert document["dlhub"]["version"] == document["datacite"]["version"] == "0.1.0"  # what publish first gives
    pinned = project(tmp_path / "b", static_servable(), files, extra="version: 1.4.0\n")
    assert build(pinned, version="2.0.1")["datacite"]["version"] == "1.4.0"


def test_provenance_records_the_tool_and_the_callers_repository(tmp_path: Path) -> None:
    root = project(tmp_path, static_servable(), {"app.py": APP})
    extra = {"repository": "https://github.com/o/r", "commit": "a" * 40, "ref": None}
    document = build(root, provenance=extra)
    assert document["provenance"] == {"tool": "dlhub-manifest 0.1.0", "repository": "https://github.com/o/r",
                                      "commit": "a" * 40}


def test_declared_methods_override_and_extend_inspected_ones_run_first(tmp_path: Path) -> None:
    methods = """\
    run:
      description: Scale values.
      output: {type: ndarray, shape: [null]}
      parameters: {scale: 3.0}
    describe:
      input: {type: string}
      output: {type: dict}
      method_details: {method_name: describe}
    """
    root = project(tmp_path, static_servable(methods=methods), {"app.py": APP})
    document = build(root)
    methods_out = document["servable"]["methods"]
    assert list(methods_out) == ["run", "describe"]
    assert methods_out["run"]["input"] == {"type": "list", "item_type": {"type": "float"}}  # inspected
    assert methods_out["run"]["output"] == {"type": "ndarray", "shape": [None]}  # declared wins
    assert methods_out["run"]["parameters"] == {"scale": 3.0}
    assert methods_out["run"]["description"] == "Scale values."
    assert methods_out["describe"]["output"] == {"type": "dict", "properties": {}}
    validate_servable(document)


def test_invalid_manifest_raises_with_every_located_diagnostic(tmp_path: Path) -> None:
    (tmp_path / "dlhub.yaml").write_text("manifest_version: 1\nname: Bad Name\ncreators: []\n", encoding="utf-8")
    with pytest.raises(InvalidManifestError) as info:
        build(tmp_path)
    fields = {d.field for d in info.value.diagnostics}
    assert {"name", "title", "servable"} <= fields | {d.message.split("'")[1] for d in info.value.diagnostics
                                                      if "missing required" in d.message}
    assert all(d.file.endswith("dlhub.yaml") for d in info.value.diagnostics)


def test_no_inspect_without_declared_types_says_what_to_declare(tmp_path: Path) -> None:
    root = project(tmp_path, static_servable(), {"app.py": APP})
    with pytest.raises(InvalidManifestError) as info:
        build(root, inspect=False)
    (diag,) = info.value.diagnostics
    assert diag.message == "method 'run' has no input or output: inspection is off (--no-inspect)"
    assert diag.hint == "declare servable.methods.run.input or build without --no-inspect"
    assert (diag.line, diag.field) == (6, "servable.type")


def test_build_document_takes_a_loaded_document(tmp_path: Path) -> None:
    root = project(tmp_path, static_servable(), {"app.py": APP})
    doc, problems = load_file(root)
    assert doc is not None and problems == []
    assert build_document(doc)["servable"]["methods"]["run"]["parameters"] == {"scale": 2.0}


def test_output_file_inside_the_project_is_never_listed_so_rebuilds_are_identical(tmp_path: Path) -> None:
    root = project(tmp_path, static_servable(), {"app.py": APP, "data/table.csv": "a,b\n"}, extra='files: ["**"]\n')
    first = dumps(build(root))
    (root / "dlhub.json").write_bytes(first)
    (root / "out.json").write_bytes(first)
    second = dumps(build(root, leave_out=["out.json"]))
    assert first == second
    assert json.loads(second)["dlhub"]["files"] == {"other": ["app.py", "data/table.csv"]}


def test_declared_pin_different_from_the_saved_version_is_a_warning_and_wins(tmp_path: Path) -> None:
    from dlhub_manifest.build import BuildOptions, build_report

    target = copy_example("sklearn", tmp_path)
    with (target / "dlhub.yaml").open("a", encoding="utf-8") as fh:
        fh.write('dependencies:\n  python:\n    scikit-learn: "1.0.2"\n')
    document, report = build_report(target, BuildOptions())
    assert document is not None and document["dlhub"]["dependencies"]["python"] == {"scikit-learn": "1.0.2"}
    (warning,) = report.diagnostics
    assert warning.severity == "warning" and warning.field == "dependencies.python.scikit-learn"
    assert "saved with 1.9.1" in warning.message


def test_check_document_lists_problems_with_their_paths() -> None:
    document = build(REPO / "examples" / "tensorflow")
    assert check_document(document) == []
    del document["servable"]["methods"]["run"]
    document["servable"]["methods"]["embed"]["input"] = {"type": "ndarray"}
    document["dlhub"]["files"]["model"] = "../outside"
    problems = check_document(document)
    assert "servable.methods: 'run' is a required property" in problems
    assert "servable.methods.embed.input: 'shape' is a required property" in problems
    assert any(p.startswith("dlhub.files.model: '../outside' does not match") for p in problems)


@pytest.mark.parametrize("first_import", ["import dlhub_manifest", "import dlhub_manifest.build"])
def test_build_is_the_package_function_whatever_was_imported_first(first_import: str) -> None:
    code = (f"{first_import}\nimport dlhub_manifest\nprint(dlhub_manifest.build.build('examples/keras')['dlhub']"
            "['name'], dlhub_manifest.api.build is dlhub_manifest.build.build, callable(dlhub_manifest.build))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["keras-iris-mlp", "True", "False"], out.stderr
