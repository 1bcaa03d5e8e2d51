"""Reporters: render validation reports as text, JSON, GitHub annotations or SARIF."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from dlhub_manifest import __version__
from dlhub_manifest.manifest.diagnostics import Report

TOOL_URL = "https://github.com/dlhub-manifest/dlhub-manifest"


def render_text(reports: Sequence[Report]) -> str:
    """Compiler-style lines, then a one-line summary per file."""
    lines: list[str] = []
    for report in reports:
        lines.extend(d.format_text() for d in report.sorted())
        if report.ok:
            lines.append(f"{report.file}: ok")
    bad = sum(1 for r in reports if not r.ok)
    if bad:
        count = sum(len(r.errors) for r in reports)
        lines.append(f"{count} problem{'s' if count != 1 else ''} in {bad} file{'s' if bad != 1 else ''}")
    return "\n".join(lines)


def render_json(reports: Sequence[Report]) -> str:
    """One JSON object: `valid` and every file's diagnostics."""
    payload = {
        "valid": all(r.ok for r in reports),
        "files": [{"file": r.file, "valid": r.ok, "diagnostics": [d.to_dict() for d in r.sorted()]}
                  for r in reports],
    }
    return json.dumps(payload, indent=2)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(reports: Sequence[Report]) -> str:
    """GitHub Actions workflow commands, so problems annotate the manifest's lines in a pull request."""
    lines = []
    for report in reports:
        for d in report.sorted():
            props = [f"file={_escape_property(d.file)}"]
            if d.line is not None:
                props.append(f"line={d.line}")
            if d.column is not None:
                props.append(f"col={d.column}")
            props.append(f"title={_escape_property(d.field)}")
            text = d.message + (f" (hint: {d.hint})" if d.hint else "")
            lines.append(f"::{d.severity} {','.join(props)}::{_escape_data(text)}")
    return "\n".join(lines)


def render_sarif(reports: Sequence[Report]) -> str:
    """SARIF 2.1.0 for code-scanning tools."""
    results: list[dict[str, Any]] = []
    for report in reports:
        for d in report.sorted():
            region = {"startLine": d.line or 1, **({"startColumn": d.column} if d.column else {})}
            text = d.message + (f" (hint: {d.hint})" if d.hint else "")
            results.append({
                "ruleId": "dlhub-manifest/" + (d.field.split(".")[0].split("[")[0] if d.path else "document"),
                "level": d.severity,
                "message": {"text": f"{d.field}: {text}"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": d.file}, "region": region}}],
            })
    sarif = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "dlhub-manifest", "version": __version__,
                                      "informationUri": TOOL_URL}},
                  "results": results}],
    }
    return json.dumps(sarif, indent=2)


RENDERERS: dict[str, Callable[[Sequence[Report]], str]] = {
    "text": render_text, "json": render_json, "github": render_github, "sarif": render_sarif,
}
