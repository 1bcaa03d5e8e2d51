"""Fixtures the acceptance tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from git_server import git_http_server


@pytest.fixture(scope="module")
def forge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A git server over HTTP on 127.0.0.1: (base URL, folder whose bare repositories it serves)."""
    root = tmp_path_factory.mktemp("forge")
    with git_http_server(root) as url:
        yield url, root
