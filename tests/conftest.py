"""Shared fixtures: the repository root and a CLI runner that shows output on failure."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from dlhub_oracle import require_reference

REPO = Path(__file__).resolve().parents[1]
pytest_plugins = ["services.postgres", "services.s3"]
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture
def repo_root() -> Path:
    return REPO


@pytest.fixture
def dlhub_reference() -> Path:
    """DLHub's reference folder (published schemas, peer examples): skipped with the reason when absent."""
    return require_reference()


@pytest.fixture
def run_cli() -> Callable[..., Result]:
    """Invoke the CLI in-process (optionally from `cwd`); a wrong exit code fails with stdout and stderr shown."""
    from dlhub_manifest.cli import cli

    def run(*args: str, expect: int | None = 0, cwd: Path | None = None) -> Result:
        old = os.getcwd()
        try:
            if cwd is not None:
                os.chdir(cwd)
            result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        finally:
            os.chdir(old)
        if expect is not None:
            assert result.exit_code == expect, (
                f"exit {result.exit_code} != {expect}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")
        return result

    return run


@pytest.fixture
def mocked() -> Iterator[None]:
    """HTTP calls answered by `responses` registrations (globus_sdk.testing's load_response uses them)."""
    import responses

    responses.start()
    try:
        yield
    finally:
        responses.stop()
        responses.reset()


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh local registry (and hash cache) for the test, selected through the environment like a user would."""
    root = tmp_path / "registry"
    monkeypatch.setenv("DLHUB_MANIFEST_REGISTRY", str(root))
    monkeypatch.setenv("DLHUB_MANIFEST_CACHE_DIR", str(tmp_path / "cache"))
    return root


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest) -> str | None:
    """Where the registry's records live, for the contract tests that run on both backends: None (the folder's
    SQLite file) or the URL of a fresh PostgreSQL database (see tests/services/postgres.py)."""
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("postgres_url")
    return url
