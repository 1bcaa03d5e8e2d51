"""Named targets in the user's config file (TOML or YAML) and URL normalisation."""

from __future__ import annotations

from pathlib import Path

import pytest

from dlhub_manifest.credentials.userconfig import load_targets, normalise_url, resolve_target_config
from dlhub_manifest.errors import UsageError


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DLHUB_MANIFEST_CONFIG_DIR", str(tmp_path))
    return tmp_path


def test_toml_named_target(cfg: Path) -> None:
    (cfg / "config.toml").write_text('[targets.lab]\nurl = "HTTPS://Registry.Lab.example/api/"\nauth = "globus"\n'
                                     'scope = "urn:x"\n')
    lab = resolve_target_config("lab")
    assert (lab.name, lab.url, lab.auth, lab.scope) == ("lab", "https://registry.lab.example/api", "globus", "urn:x")


def test_yaml_named_target_and_url_lookup_finds_its_settings(cfg: Path) -> None:
    (cfg / "config.yaml").write_text("targets:\n  ci: {url: 'http://127.0.0.1:8000/', auth: token}\n")
    assert resolve_target_config("http://127.0.0.1:8000").name == "ci"
    assert resolve_target_config("http://127.0.0.1:9000").name is None


def test_unknown_name_lists_the_known_ones(cfg: Path) -> None:
    (cfg / "config.yaml").write_text("targets:\n  ci: {url: 'http://127.0.0.1:8000'}\n")
    with pytest.raises(UsageError, match=r"unknown target 'lab' \(known: ci\)"):
        resolve_target_config("lab")


@pytest.mark.parametrize(("text", "message"), [
    ("targets:\n  ci: {auth: token}\n", "needs a 'url'"),
    ("targets:\n  ci: {url: 'http://h', auth: password}\n", "auth is 'password'"),
    ("targets:\n  ci: {url: 'http://h', token: abc}\n", "unknown key"),
    ("targets: [1]\n", "must be a mapping"),
    ("targets: {ci: {url: 'ftp://h'}}\n", "not an http"),
    ("targets: {ci: [\n", "cannot be parsed"),
])
def test_bad_config_is_a_clear_usage_error(cfg: Path, text: str, message: str) -> None:
    (cfg / "config.yaml").write_text(text)
    with pytest.raises(UsageError, match=message):
        load_targets()


def test_no_config_file_means_no_targets(cfg: Path) -> None:
    assert load_targets() == {}


def test_normalise_url() -> None:
    assert normalise_url("HTTP://LocalHost:8000//") == "http://localhost:8000"
