"""Where the embedded registry and the hash cache live: an explicit path, else the environment, else platformdirs."""

from __future__ import annotations

import os
from pathlib import Path

REGISTRY_ENV = "DLHUB_MANIFEST_REGISTRY"
CACHE_ENV = "DLHUB_MANIFEST_CACHE_DIR"
APP_NAME = "dlhub-manifest"


def registry_path(explicit: str | Path | None = None) -> Path:
    """The local registry directory: `--registry PATH` > `$DLHUB_MANIFEST_REGISTRY` > user data dir."""
    if explicit:
        return Path(explicit).expanduser().absolute()
    env = os.environ.get(REGISTRY_ENV)
    if env:
        return Path(env).expanduser().absolute()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "registry"


def cache_dir() -> Path:
    """The user's cache folder (hashes of unchanged files); `$DLHUB_MANIFEST_CACHE_DIR` overrides it."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser().absolute()
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))
