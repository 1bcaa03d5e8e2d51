"""`validate` cross-checks CITATION.cff, .zenodo.json and codemeta.json beside the manifest."""

from __future__ import annotations

import json
from pathlib import Path

from citation_support import rich_project
from click.testing import CliRunner

from dlhub_manifest.cli import cli


def test_disagreeing_files_are_warnings_naming_both_files_and_lines(tmp_path: Path) -> None:
    project = rich_project(tmp_path / "proj")
    (project / "CITATION.cff").write_text("cff-version: 1.2.0\ntitle: Old title\nversion: 0.9.0\n"
                                          "authors:\n  - family-names: Ward\n    given-names: Logan\n",
                                          encoding="utf-8")
    (project / ".zenodo.json").write_text(json.dumps({"title": "x", "license": "Apache-2.0"}, indent=1),
                                          encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(project)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"{project}/dlhub.yaml:3:1: title: CITATION.cff:2:1 says title 'Old title'")
               and "export --to cff -o CITATION.cff" in line for line in lines)
    assert any("version: CITATION.cff:3:1 says version '0.9.0'" in line for line in lines)
    assert any("creators: CITATION.cff:4:1 says creators ['Ward, Logan']" in line for line in lines)
    assert any("license: .zenodo.json:3:2 says license 'Apache-2.0'" in line for line in lines)
    strict = CliRunner().invoke(cli, ["validate", "--strict", str(project)])
    assert strict.exit_code == 1 and "6 problems in 1 file" in strict.stdout


def test_a_file_written_by_export_agrees(tmp_path: Path) -> None:
    project = rich_project(tmp_path / "proj")
    for fmt, name in (("cff", "CITATION.cff"), ("zenodo", ".zenodo.json"), ("codemeta", "codemeta.json")):
        written = CliRunner().invoke(cli, ["export", str(project), "--to", fmt, "-o", str(project / name)])
        assert written.exit_code == 0, written.output
    result = CliRunner().invoke(cli, ["validate", "--strict", str(project)])
    assert result.exit_code == 0 and result.stdout.strip() == f"{project}/dlhub.yaml: ok", result.output


def test_a_broken_citation_file_is_reported_at_its_own_line(tmp_path: Path) -> None:
    project = rich_project(tmp_path / "proj")
    (project / "codemeta.json").write_text('{\n  "name": 7\n}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(project)])
    assert "codemeta.json:2:3: name: 7 is not a string" in result.stdout
