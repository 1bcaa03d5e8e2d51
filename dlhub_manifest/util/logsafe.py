"""Logging that never shows a secret: a filter redacts bearer tokens and known token values."""

from __future__ import annotations

import logging
import re

_SECRETS: set[str] = set()
_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:access_|refresh_)?token[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)(client_secret[\"']?\s*[:=]\s*[\"']?)[^\s\"',&]+"),
]


def register_secret(value: str | None) -> None:
    """Remember a secret so any log line containing it is redacted."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str) -> str:
    """`text` with every registered secret and token-looking value replaced by `***`."""
    # longest first: a secret that contains a shorter one must be hidden whole, not left half-visible
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + "***", text)
    return text


class RedactingFilter(logging.Filter):
    """Applied to every handler: formats the record, then redacts it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


def configure_debug_logging() -> None:
    """Debug logs to stderr, redacted (including globus_sdk and urllib3 logs)."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("debug: %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
