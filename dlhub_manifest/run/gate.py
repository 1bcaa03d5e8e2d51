"""Examples as a gate before publishing: a project's examples must pass before its publication is submitted.

The outcome goes into the document's provenance (`examples: {ran, passed, failed}`) when the manifest
declares examples; `--no-examples` records `ran: false`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlhub_manifest.errors import InvalidManifestError
from dlhub_manifest.publish.files import Prepared
from dlhub_manifest.run.examples import ExampleResult, ExamplesFailed, declared_examples, run_examples, summary
from dlhub_manifest.run.source import Servable, staged


def gate_examples(prepared: Prepared, *, run: bool = True, on_result: Callable[[ExampleResult], object] | None = None,
                  **call_options: Any) -> list[ExampleResult]:
    """Run the prepared project's examples on exactly the files it publishes; ExamplesFailed when any fails."""
    from dlhub_manifest.manifest.load import load_file

    if prepared.project is None:
        return []
    doc, problems = load_file(prepared.project)
    if doc is None:
        raise InvalidManifestError(problems)
    if not declared_examples(doc.data):
        return []
    provenance = prepared.document.setdefault("provenance", {})
    if not run:
        provenance["examples"] = summary([], ran=False)
        return []
    with staged(prepared.project, [f.path for f in prepared.files]) as folder:
        servable = Servable(prepared.document, folder, prepared.name, doc.data)
        results = run_examples(servable, on_result=on_result, **call_options)
    provenance["examples"] = summary(results)
    if not all(r.passed for r in results):
        raise ExamplesFailed(results)
    return results
