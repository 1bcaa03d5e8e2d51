"""The package layout is the architecture: rooms import only what the map in docs/ARCHITECTURE.md allows."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "dlhub_manifest"
CLIENT_ROOMS = {"publish", "targets", "credentials", "ci", "cli"}
# room -> rooms (or top-level modules) it must never import
FORBIDDEN = {
    "registry": CLIENT_ROOMS | {"server"},
    "server": CLIENT_ROOMS,
    "util": {"manifest", "build", "package", "publish", "repository", "targets", "credentials", "registry",
             "server", "cli", "ci", "api", "citation"},
    **{room: {"cli"} for room in ("manifest", "build", "package", "publish", "repository", "targets",
                                  "credentials", "ci", "api", "run", "citation")},
}


def _room(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else parts[0].removesuffix(".py")


def _imported_rooms(path: Path) -> set[str]:
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: relative import; the package uses absolute imports")
        names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [])
        rooms |= {n.split(".")[1] for n in names if n.startswith("dlhub_manifest.")}
    return rooms


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_imports_only_allowed_rooms(path: Path) -> None:
    forbidden = FORBIDDEN.get(_room(path), set()) & _imported_rooms(path)
    assert not forbidden, f"{path.relative_to(PACKAGE)} imports {sorted(forbidden)}, which its room must not"


def test_package_root_holds_only_entry_points() -> None:
    """The root lists rooms; a helper module at the root belongs in a room (util/ for small shared ones)."""
    root_modules = {p.name for p in PACKAGE.glob("*.py")}
    assert root_modules == {"__init__.py", "__main__.py", "api.py", "errors.py"}


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("from dlhub_manifest.publish.files import publish\nimport dlhub_manifest.cli\n")
    assert _imported_rooms(probe) == {"publish", "cli"}
