"""Keep the files of the chosen servable type and drop the others (cookiecutter post-generation hook)."""

from __future__ import annotations

import shutil
from pathlib import Path

SERVABLE_TYPE = "{{ cookiecutter.servable_type }}"

# Helpers that several types share, kept only where the type's code imports them.
SHARED_FILES: dict[str, list[str]] = {
    "class_method": ["data.py"],
    "pytorch": ["data.py"],
    "keras": ["data.py"],
    "tensorflow": ["data.py"],
}


def merge_into(source: Path, destination: Path) -> None:
    """Move every file under `source` to the same relative place under `destination`."""
    for path in sorted(source.rglob("*")):
        if path.is_file():
            target = destination / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(target))


def main() -> None:
    project = Path.cwd()
    merge_into(project / "_types" / SERVABLE_TYPE, project)
    for name in SHARED_FILES.get(SERVABLE_TYPE, []):
        shutil.move(str(project / "_shared" / name), str(project / name))
    shutil.rmtree(project / "_types")
    shutil.rmtree(project / "_shared")
    # pip byte-compiles the template's .py files when it installs the wheel; caches are not project files.
    for cache in sorted(project.rglob("__pycache__"), reverse=True):
        shutil.rmtree(cache)


if __name__ == "__main__":
    main()
