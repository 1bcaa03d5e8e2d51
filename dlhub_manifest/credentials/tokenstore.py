"""Tokens at rest: one JSON file in the user's config dir, mode 0600, written atomically.

The file maps a registry URL to its token record. It is never readable by others: the temp file is
created 0600 before any byte is written, then renamed; a file found with wider permissions is refused.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

from dlhub_manifest.errors import AuthError
from dlhub_manifest.util.fsutil import atomic_write_text
from dlhub_manifest.util.logsafe import register_secret

TOKEN_FILE = "tokens.json"
SECRET_FIELDS = ("access_token", "refresh_token")


class TokenStore:
    """Token records keyed by normalised registry URL."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / TOKEN_FILE

    def get(self, key: str) -> dict[str, Any] | None:
        """The record stored for `key`, with its secrets registered for redaction."""
        record = self._load().get(key)
        if record is None:
            return None
        for name in SECRET_FIELDS:
            register_secret(record.get(name))
        return dict(record)

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Store (or replace) the record for `key`."""
        data = self._load()
        data[key] = record
        self._save(data)

    def delete(self, key: str) -> dict[str, Any] | None:
        """Remove and return the record for `key` (None when there was none)."""
        data = self._load()
        record: dict[str, Any] | None = data.pop(key, None)
        if record is not None:
            self._save(data)
        return record

    def _load(self) -> dict[str, Any]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise AuthError(f"{self.path} is readable by other users (mode {stat.S_IMODE(st.st_mode):o}); "
                            f"run 'chmod 600 {self.path}' or delete it and log in again")
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise AuthError(f"{self.path} is not valid JSON; delete it and log in again") from e
        if not isinstance(data, dict):
            raise AuthError(f"{self.path} is not a token file; delete it and log in again")
        return data

    def _save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # atomic_write_text creates its temp file with mkstemp (0600) and keeps `mode` on rename
        atomic_write_text(self.path, json.dumps(data, indent=2, sort_keys=True) + "\n", mode=0o600)
        os.chmod(self.path, 0o600)
