"""Benchmark set-up: install the pinned baseline tools a benchmark declares, so no result rests on an assumption.

A module declares `BASELINES = {"check-jsonschema": "0.39.0"}`; stdlib baselines (zipfile, http.client)
need no install and are recorded with the Python version.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from importlib import metadata


class SetupFailed(RuntimeError):
    """A baseline could not be installed; the benchmarks that need it cannot run."""


def installed_version(name: str) -> str | None:
    """The installed version of distribution `name`, or None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def ensure(pins: dict[str, str], log: Callable[[str], None]) -> dict[str, str]:
    """Install each pinned baseline that is missing or at another version; returns name -> version in use."""
    for name, version in sorted(pins.items()):
        if installed_version(name) == version:
            continue
        log(f"installing baseline {name}=={version} ...")
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                               f"{name}=={version}"], capture_output=True, text=True)
        if proc.returncode != 0 or installed_version(name) != version:
            raise SetupFailed(f"could not install baseline {name}=={version}: {proc.stderr.strip()[-500:]} "
                              "(install it by hand with pip, or run with --only for other benchmarks)")
    return dict(pins)
