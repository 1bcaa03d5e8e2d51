"""Complete capture: what loading the model needs must ship with it.

Every project module that inspection saw imported (the module defining a pickled class, a helper the static
function imports) is added to the published files, unless `files.exclude` excludes it: then the build fails
naming the module. Project code of `static_method` and `class_method` servables that imports a third-party
package the dependencies do not name gets a warning.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable
from pathlib import Path

from dlhub_manifest.manifest.diagnostics import Diagnostic
from dlhub_manifest.manifest.load import Document
from dlhub_manifest.package.select import excluded

SOURCE_TYPES = ("static_method", "class_method")


def captured_modules(doc: Document, modules: Iterable[str], shipped: set[str]) -> tuple[list[str], list[Diagnostic]]:
    """The imported project modules `shipped` lacks (to add to the files), and an error per excluded one."""
    added: list[str] = []
    problems: list[Diagnostic] = []
    for rel in sorted(set(modules) - shipped):
        if excluded(doc.data, rel):
            problems.append(doc.diagnostic(("files",), f"loading the model imports the project module "
                                           f"{_dotted(rel)!r} ({rel}), which files.exclude leaves out: the "
                                           "published servable could not be loaded",
                                           f"remove the pattern that matches {rel} from files.exclude"))
        else:
            added.append(rel)
    return added, problems


def undeclared_imports(doc: Document, modules: Iterable[str], declared: Iterable[str]) -> list[Diagnostic]:
    """A warning per third-party package that the project's own modules import and no dependency names."""
    if doc.data["servable"]["type"] not in SOURCE_TYPES:
        return []
    names = {_canonical(n.split("[")[0]) for n in declared}
    distributions = _distributions()
    out: list[Diagnostic] = []
    for top, rel in sorted(_third_party(doc.project_dir, modules).items()):
        dists = distributions.get(top, [top])
        if not names & {_canonical(d) for d in dists}:
            diag = doc.diagnostic(("dependencies",), f"{rel} imports {top!r} (package {dists[0]}), which the "
                                  "dependencies do not name", f"add {dists[0]} to dependencies.python or to the "
                                  "requirements file, so the servable can be installed elsewhere")
            out.append(Diagnostic(diag.file, diag.line, diag.column, diag.path, diag.message, diag.hint, "warning"))
    return out


def _third_party(project: Path, modules: Iterable[str]) -> dict[str, str]:
    """Top-level names imported by the project's `.py` modules that are neither stdlib nor project modules."""
    found: dict[str, str] = {}
    for rel in sorted(m for m in modules if m.endswith(".py")):
        try:
            tree = ast.parse((project / rel).read_bytes(), rel)
        except (OSError, SyntaxError, ValueError):
            continue
        for top in _imported(tree):
            if top not in sys.stdlib_module_names and top != "__future__" and not _in_project(project, top):
                found.setdefault(top, rel)
    return found


def _imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _in_project(project: Path, top: str) -> bool:
    return (project / f"{top}.py").is_file() or (project / top).is_dir()


def _distributions() -> dict[str, list[str]]:
    from importlib.metadata import packages_distributions

    return dict(packages_distributions())


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def _dotted(rel: str) -> str:
    return rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
