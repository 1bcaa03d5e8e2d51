"""Isolated environments (`run --isolated`): a virtual environment made from the document's
`dlhub.dependencies.python` and nothing else, so a run proves the servable works from what it declares.

Environments live in `<cache dir>/envs/<key>/`, the key a hash of the pins and of the Python that makes them;
one is built once (in a folder beside it, renamed into place when complete) and reused by every servable with
the same pins. It is made with `uv` when `uv` is on PATH, else with the standard `venv` and pip: this Python's
own pip installs into it (`pip --python`), so it gets no pip of its own unless that pip is too old. Package
indexes are pip's or uv's own settings: for an offline machine set `PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels`
(uv: `UV_OFFLINE=1 UV_FIND_LINKS=/wheels`). dlhub-manifest's own runner reaches the environment through a
folder holding only a link to this package, on PYTHONPATH.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlhub_manifest.build.inspect.runner import Interpreter
from dlhub_manifest.errors import DLHubManifestError
from dlhub_manifest.util.locations import cache_dir

FORMAT = 1
INSTALL_TIMEOUT = 1800.0
_TAIL = 2000


class EnvironmentBuildError(DLHubManifestError):
    """The isolated environment could not be made (an unknown package, no index, no network)."""


@dataclass(frozen=True)
class Environment:
    """An isolated environment: where it is, the interpreter to run with, and whether this call built it."""

    folder: Path
    interpreter: Interpreter
    created: bool


def requirements(document: dict[str, Any]) -> list[str]:
    """pip requirement strings for the document's pins: `name==1.2.3`, `name>=1.2`, or `name` for `*`."""
    pins: dict[str, str] = document["dlhub"].get("dependencies", {}).get("python", {})
    out = []
    for name, spec in sorted(pins.items()):
        spec = str(spec).strip()
        if spec in ("", "*"):
            out.append(name)
        elif spec[0].isdigit():
            out.append(f"{name}=={spec}")
        else:
            out.append(f"{name}{spec}")
    return out


def environment_key(reqs: list[str]) -> str:
    """The cache key of an environment: the pins, the Python that makes it and the layout version."""
    key = {"format": FORMAT, "python": [os.path.realpath(sys.executable), sys.version], "requirements": sorted(reqs)}
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode("utf-8")).hexdigest()[:32]


def ensure_environment(document: dict[str, Any]) -> Environment:
    """The isolated environment for the document's dependencies, built on first use."""
    reqs = requirements(document)
    root = cache_dir() / "envs"
    folder = root / environment_key(reqs)
    created = False
    if not (folder / "pyvenv.cfg").is_file():
        root.mkdir(parents=True, exist_ok=True)
        _build(folder, reqs)
        created = True
    return Environment(folder, Interpreter(str(_python(folder)), str(package_path())), created)


def _build(folder: Path, reqs: list[str]) -> None:
    """Make the environment in a temporary folder beside `folder`, then rename it into place."""
    staging = Path(tempfile.mkdtemp(prefix=".build-", dir=folder.parent))
    try:
        uv = shutil.which("uv")
        if uv:
            _step([uv, "venv", "--quiet", "--python", sys.executable, str(staging)])
            if reqs:
                _step([uv, "pip", "install", "--quiet", "--python", str(_python(staging)), *reqs])
        else:
            pip = _outer_pip()
            _step([sys.executable, "-m", "venv", *([] if reqs and not pip else ["--without-pip"]), str(staging)])
            if reqs:
                installer = [*pip, "--python", str(_python(staging))] if pip else [str(_python(staging)), "-m", "pip"]
                _step([*installer, "install", "--quiet", "--disable-pip-version-check", "--no-input", *reqs])
        try:
            os.replace(staging, folder)
        except OSError:
            if not (folder / "pyvenv.cfg").is_file():  # not another process that finished first
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _outer_pip() -> list[str] | None:
    """This Python's own pip when it can install into another environment (`--python`, pip 22.3+): the new
    environment then needs no pip of its own, which saves seeding one (seconds per environment)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        major, minor = (int(p) for p in version("pip").split(".")[:2])
    except (PackageNotFoundError, ValueError):
        return None
    return [sys.executable, "-m", "pip"] if (major, minor) >= (22, 3) else None


def _step(cmd: list[str]) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise EnvironmentBuildError(f"building the isolated environment failed: {' '.join(cmd[:3])}: {e}") from e
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip()[-_TAIL:]
        raise EnvironmentBuildError(f"building the isolated environment failed ({' '.join(cmd[:3])} exited with "
                                    f"status {proc.returncode}): {tail}")


def _python(folder: Path) -> Path:
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def package_path() -> Path:
    """A folder whose only entry links to the installed `dlhub_manifest` package (refreshed when it moved)."""
    package = Path(__file__).resolve().parents[1]
    folder = cache_dir() / "envs" / "dlhub-manifest-path"
    link = folder / "dlhub_manifest"
    if not (link.is_symlink() and os.readlink(link) == str(package)):
        folder.mkdir(parents=True, exist_ok=True)
        fresh = folder / f".link-{os.getpid()}"
        fresh.unlink(missing_ok=True)
        os.symlink(package, fresh, target_is_directory=True)
        os.replace(fresh, link)
    return folder
