"""`dependencies.requirements` (a pip requirements file) read into `dlhub.dependencies.python` with `packaging`.

A requirement pinned to one version (`torch==2.1.0`) becomes that version, any other specifier is kept as
written (`scikit-learn>=1.3`), a bare name becomes `*`. Requirements whose environment marker does not hold
here are left out; pip options (`-r`, `--index-url`, ...) and direct URLs cannot be expressed as a pin, and are
warned about.
"""

from __future__ import annotations

from dlhub_manifest.manifest.diagnostics import Diagnostic
from dlhub_manifest.manifest.load import Document
from dlhub_manifest.manifest.paths import PathProblem, resolve_inside

WHERE = ("dependencies", "requirements")


def requirement_pins(doc: Document) -> tuple[dict[str, str], list[Diagnostic]]:
    """`{name: version or specifier}` from the requirements file the manifest names, and its problems."""
    rel = (doc.data.get("dependencies") or {}).get("requirements")
    if not isinstance(rel, str):
        return {}, []
    try:
        text = resolve_inside(doc.project_dir, rel, "file").read_text(encoding="utf-8")
    except (PathProblem, OSError, UnicodeDecodeError) as e:
        return {}, [doc.diagnostic(WHERE, f"cannot read {rel}: {e}", "name a pip requirements file in the project")]
    pins: dict[str, str] = {}
    problems: list[Diagnostic] = []
    for number, line in enumerate(_logical_lines(text), start=1):
        if line:
            _add(doc, rel, number, line, pins, problems)
    return pins, problems


def _logical_lines(text: str) -> list[str]:
    """Lines without comments; a trailing backslash continues a line (numbers are kept per physical line)."""
    out: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line.endswith("\\"):
            pending += line[:-1] + " "
            out.append("")
            continue
        out.append((pending + line).strip())
        pending = ""
    return out


def _add(doc: Document, rel: str, number: int, line: str, pins: dict[str, str], problems: list[Diagnostic]) -> None:
    from packaging.requirements import InvalidRequirement, Requirement

    where = f"{rel} line {number}"
    if line.startswith("-"):
        problems.append(_warning(doc, f"{where}: pip option {line.split()[0]!r} is not a dependency and is ignored",
                                 "list the packages themselves, or declare them under dependencies.python"))
        return
    try:
        req = Requirement(line)
    except InvalidRequirement as e:
        problems.append(doc.diagnostic(WHERE, f"{where}: {line!r} is not a PEP 508 requirement ({e})",
                                       "write name, name==1.2.3 or name>=1.2"))
        return
    if req.marker is not None and not req.marker.evaluate():
        return
    if req.url:
        problems.append(_warning(doc, f"{where}: {req.name} comes from a URL, which a version pin cannot express",
                                 f"declare dependencies.python.{req.name} with the version it installs"))
        return
    key = req.name + (f"[{','.join(sorted(req.extras))}]" if req.extras else "")
    pins[key] = _pin(str(req.specifier))


def _pin(specifier: str) -> str:
    """`==1.2.3` -> `1.2.3` (a version); `>=1,<2` stays as written; nothing -> `*` (any version)."""
    if specifier.startswith("==") and "," not in specifier and "*" not in specifier:
        return specifier[2:]
    return specifier or "*"


def _warning(doc: Document, message: str, hint: str) -> Diagnostic:
    diag = doc.diagnostic(WHERE, message, hint)
    return Diagnostic(diag.file, diag.line, diag.column, diag.path, diag.message, diag.hint, "warning")
