"""Helpers shared by the builder tests (this module holds no tests): tiny projects written into tmp_path."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

HEADER = """\
manifest_version: 1
name: {name}
title: A test servable
creators: ["Doe, Jane"]
"""


def project(root: Path, servable: str, files: dict[str, str | bytes] | None = None, *, name: str = "probe",
            extra: str = "") -> Path:
    """Write dlhub.yaml (common header + `servable` YAML + `extra` top-level YAML) and `files` under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    text = HEADER.format(name=name) + textwrap.dedent(extra) + textwrap.dedent(servable)
    (root / "dlhub.yaml").write_text(text, encoding="utf-8")
    for rel, content in (files or {}).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


def copy_example(name: str, dest: Path) -> Path:
    """A private copy of examples/<name> (tests must not write into the repository)."""
    target = dest / name
    shutil.copytree(EXAMPLES / name, target, ignore=shutil.ignore_patterns("__pycache__", "dlhub.json"))
    return target


def static_servable(function: str = "app:run", methods: str = "") -> str:
    """A static_method `servable:` block, with optional `methods:` YAML indented under it."""
    block = f"servable:\n  type: static_method\n  options:\n    function: {function}\n"
    if methods:
        block += "  methods:\n" + textwrap.indent(textwrap.dedent(methods), "    ")
    return block
