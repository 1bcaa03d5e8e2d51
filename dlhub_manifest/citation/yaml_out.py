"""A manifest draft as YAML text, with its notes as comments above the fields they are about."""

from __future__ import annotations

import yaml

from dlhub_manifest.citation.to_manifest import Draft
from dlhub_manifest.errors import InternalError
from dlhub_manifest.manifest.load import load_text

SCHEMA_LINE = "# yaml-language-server: $schema=https://dlhub-manifest.github.io/schemas/dlhub-manifest.v1.schema.json"


def render_draft(draft: Draft, source: str) -> str:
    """YAML for `draft`: a header naming the source and the header notes, then the fields with their notes."""
    body = yaml.safe_dump(draft.data, sort_keys=False, allow_unicode=True, width=10**6, default_flow_style=False)
    doc, problems = load_text(body, "dlhub.yaml")
    if doc is None:
        raise InternalError(f"dlhub-manifest wrote YAML it cannot read back ({problems[0].format_text()}); "
                            "please report this with the imported file")
    lines = body.splitlines()
    above: dict[int, list[str]] = {}
    for path, notes in draft.notes.items():
        line, column = doc.locate(path)
        if line is not None:
            above.setdefault(line, []).extend(" " * ((column or 1) - 1) + "# " + n for n in notes)
    out = [SCHEMA_LINE, f"# Imported from {source} by `dlhub-manifest import`.",
           "# Check each value marked CHECK and complete each FILL IN, then run `dlhub-manifest validate`."]
    out += [f"# {note}" for note in draft.header]
    for number, text in enumerate(lines, start=1):
        out += above.get(number, [])
        out.append(text)
    return "\n".join(out) + "\n"
