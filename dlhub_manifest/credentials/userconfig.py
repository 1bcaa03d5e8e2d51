"""The user's configuration: where it lives and the named HTTP targets it declares.

`<user config dir>/dlhub-manifest/config.toml` (or `config.yaml`) may hold
`targets: {lab: {url: https://..., auth: globus|token, scope: ..., client_id: ...}}` so that
`--target lab` stands for a registry URL and how to authenticate to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dlhub_manifest.errors import UsageError

CONFIG_DIR_ENV = "DLHUB_MANIFEST_CONFIG_DIR"
CONFIG_NAMES = ("config.toml", "config.yaml", "config.yml")
AUTH_KINDS = ("auto", "token", "globus")


@dataclass(frozen=True)
class TargetConfig:
    """Where an HTTP registry is and how to authenticate to it."""

    url: str
    name: str | None = None
    auth: str = "auto"
    scope: str | None = None
    client_id: str | None = None

    @property
    def key(self) -> str:
        """The identity of the target for token storage: its normalised URL."""
        return normalise_url(self.url)


def config_dir() -> Path:
    """The user's dlhub-manifest config folder (`DLHUB_MANIFEST_CONFIG_DIR` overrides, for CI and tests)."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("dlhub-manifest", appauthor=False))


def normalise_url(url: str) -> str:
    """`HTTP://Host:80/x/` → `http://host:80/x`: one spelling per registry."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{url!r} is not an http(s) URL; use e.g. http://127.0.0.1:8000 or a named target")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def is_url(value: str) -> bool:
    """Whether a `--target` value is a URL rather than the name of a configured target."""
    return value.lower().startswith(("http://", "https://"))


def resolve_target_config(target: str) -> TargetConfig:
    """A `--target` value (URL or configured name) as a `TargetConfig`."""
    if is_url(target):
        configured = {t.key: t for t in load_targets().values()}
        return configured.get(normalise_url(target), TargetConfig(url=normalise_url(target)))
    targets = load_targets()
    if target not in targets:
        known = ", ".join(sorted(targets)) or "none configured"
        raise UsageError(f"unknown target {target!r} (known: {known}); give a URL such as "
                         f"http://127.0.0.1:8000 or add it under 'targets:' in {_config_hint()}")
    return targets[target]


def load_targets() -> dict[str, TargetConfig]:
    """Every named target in the user's config file (empty when there is no file)."""
    path = _config_file()
    if path is None:
        return {}
    data = _read_config(path)
    raw = data.get("targets") or {}
    if not isinstance(raw, dict):
        raise UsageError(f"{path}: 'targets' must be a mapping of name to {{url: ..., auth: ...}}")
    return {str(name): _target_from(path, str(name), entry) for name, entry in raw.items()}


def _target_from(path: Path, name: str, entry: Any) -> TargetConfig:
    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
        raise UsageError(f"{path}: targets.{name} needs a 'url' string")
    auth = str(entry.get("auth", "auto"))
    if auth not in AUTH_KINDS:
        raise UsageError(f"{path}: targets.{name}.auth is {auth!r}; use one of {', '.join(AUTH_KINDS)}")
    unknown = set(entry) - {"url", "auth", "scope", "client_id"}
    if unknown:
        raise UsageError(f"{path}: targets.{name} has unknown key(s) {', '.join(sorted(unknown))}; "
                         "allowed: url, auth, scope, client_id")
    return TargetConfig(url=normalise_url(entry["url"]), name=name, auth=auth,
                        scope=_opt_str(entry.get("scope")), client_id=_opt_str(entry.get("client_id")))


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _config_file() -> Path | None:
    folder = config_dir()
    return next((folder / n for n in CONFIG_NAMES if (folder / n).is_file()), None)


def _config_hint() -> str:
    return str(config_dir() / CONFIG_NAMES[0])


def _read_config(path: Path) -> dict[str, Any]:
    """Parse the config file (TOML or YAML, safe loaders only); a broken file is a usage error."""
    text = path.read_text(encoding="utf-8")
    try:
        data = _parse_toml(text) if path.suffix == ".toml" else _parse_yaml(text)
    except ValueError as e:
        raise UsageError(f"{path} cannot be parsed: {e}") from e
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold a mapping at the top level")
    return data


def _parse_toml(text: str) -> Any:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(text)


def _parse_yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ValueError(str(e)) from e
