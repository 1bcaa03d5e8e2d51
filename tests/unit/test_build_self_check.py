"""The builder never hands out a document its own schema refuses: every example builds to a valid one, inputs
that could slip through are user errors, and anything else is a loud internal error, not a quiet document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_build_support import REPO, project, static_servable

from dlhub_manifest.build import build, build_document, check_document
from dlhub_manifest.build import document as document_module
from dlhub_manifest.cli import cli
from dlhub_manifest.errors import InternalError, InvalidManifestError, UsageError
from dlhub_manifest.manifest.load import load_file

APP = "def run(x: list[float]) -> list[float]:\n    return x\n"
SHIPPED = sorted(p.parent for p in (REPO / "examples").glob("*/dlhub.yaml"))
VALID_CASES = sorted(p.parent for p in (REPO / "tests" / "examples" / "valid").glob("*/dlhub.yaml"))
# Valid manifests whose model files are stand-ins: inspecting them must fail as a located user problem.
STAND_IN_MODELS = {"keras-dir", "minimal-sklearn"}


def _build_or_problems(path: Path, inspect: bool) -> tuple[dict[str, Any] | None, list[str]]:
    try:
        return build(path, inspect=inspect), []
    except InvalidManifestError as e:
        return None, [d.format_text() for d in e.diagnostics]


@pytest.mark.parametrize("inspect", [True, False], ids=["inspect", "no-inspect"])
@pytest.mark.parametrize("path", SHIPPED + VALID_CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_example_builds_a_document_our_schema_accepts(path: Path, inspect: bool) -> None:
    document, problems = _build_or_problems(path, inspect)
    if path in SHIPPED and inspect:
        assert document is not None, problems  # the shipped examples come with real models
    if document is not None:
        assert check_document(document) == []
        assert document["dlhub"]["name"] == load_file(path)[0].data["name"]  # type: ignore[union-attr]
        return
    # Not building is fine only for the reasons a user can act on, never for an internal one.
    assert problems and not any("internal" in p for p in problems)
    expected = "no input or output: inspection is off" if not inspect else "inspect"
    assert path.name in STAND_IN_MODELS or any(expected in p for p in problems), problems


def test_a_document_the_schema_refuses_raises_an_internal_error_not_a_diagnostic(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc, _ = load_file(project(tmp_path, static_servable(), {"app.py": APP}))
    assert doc is not None
    monkeypatch.setattr(document_module, "provenance", lambda extra: {"tool": "x", "commit": "not-a-sha"})
    with pytest.raises(InternalError) as info:
        build_document(doc)
    message = str(info.value)
    assert "provenance.commit: 'not-a-sha' does not match" in message
    assert "bug in dlhub-manifest" in message and "please report it" in message


def test_the_internal_error_reaches_the_cli_as_one_line_and_exit_1(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    target = project(tmp_path, static_servable(), {"app.py": APP})
    monkeypatch.setattr(document_module, "provenance", lambda extra: {"tool": ""})
    result = CliRunner().invoke(cli, ["build", str(target), "--format", "json"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: dlhub-manifest built a servable document that its own schema refuses: "
                                    "provenance.tool: '' should be non-empty")
    assert result.stdout == "" and not (target / "dlhub.json").exists()


def test_provenance_dirty_is_a_boolean_in_the_document_schema(tmp_path: Path) -> None:
    document = build(project(tmp_path, static_servable(), {"app.py": APP}))
    document["provenance"]["dirty"] = True
    assert check_document(document) == []
    document["provenance"]["dirty"] = "true"
    assert check_document(document) == ["provenance.dirty: 'true' is not of type 'boolean'"]


@pytest.mark.parametrize(("methods", "extra", "field"), [
    ("run:\n  input: {type: tuple, element_types: []}\n  output: {type: float}\n", "",
     "servable.methods.run.input.element_types"),
    ("run:\n  input: {type: python object, python_type: ''}\n  output: {type: float}\n", "",
     "servable.methods.run.input.python_type"),
    ("run:\n  input: {type: list, item_type: {type: python object, python_type: ''}}\n  output: {type: float}\n", "",
     "servable.methods.run.input.item_type.python_type"),
    ("", "dependencies:\n  python: {numpy: ''}\n", "dependencies.python.numpy"),
], ids=["empty-tuple", "empty-python-type", "nested-empty-python-type", "empty-pin"])
def test_inputs_that_built_a_refused_document_are_now_located_user_errors(tmp_path: Path, methods: str, extra: str,
                                                                          field: str) -> None:
    target = project(tmp_path, static_servable(methods=methods), {"app.py": APP}, extra=extra)
    with pytest.raises(InvalidManifestError) as info:
        build(target, inspect=False)
    (problem,) = info.value.diagnostics
    assert (problem.field, problem.message) == (field, "must not be empty")
    assert problem.line is not None


@pytest.mark.parametrize("version", ["v1.2.0", "1.2", "latest"])
def test_a_version_argument_that_is_not_semver_is_a_usage_error(tmp_path: Path, version: str) -> None:
    target = project(tmp_path, static_servable(), {"app.py": APP})
    with pytest.raises(UsageError, match="is not a semantic version"):
        build(target, version=version)
    result = CliRunner().invoke(cli, ["build", str(target), "--servable-version", version])
    assert result.exit_code == 2
    assert f"error: {version!r} is not a semantic version" in result.stderr
    assert not (target / "dlhub.json").exists()
