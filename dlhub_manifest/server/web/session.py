"""Signed-in browsers: a random session id in a cookie, the bearer token it stands for kept in server memory.

The cookie never holds the token (nor anything derived from it): stealing a cookie gives a session that
ends at sign-out, after SESSION_SECONDS, or when the server restarts; the token itself never reaches the
browser's storage. Each request checks the token again (a revoked token ends the session at once).
Forms are protected by a double-submit CSRF token: a random cookie that a form must echo in a hidden
field, compared in constant time, on top of SameSite cookies and an Origin check.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from dlhub_manifest.util.logsafe import register_secret

SESSION_COOKIE = "dlhub_session"
CSRF_COOKIE = "dlhub_csrf"
CSRF_FIELD = "csrf_token"
SESSION_SECONDS = 8 * 3600
MAX_SESSIONS = 10_000


def _key(session_id: str) -> str:
    """Sessions are kept under a hash of their id: a dict lookup leaks nothing usable about live ids."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


class Sessions:
    """Session id → bearer token, in memory, with an expiry; the oldest are dropped beyond MAX_SESSIONS."""

    def __init__(self, *, lifetime: float = SESSION_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self._entries: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._lifetime, self._clock = lifetime, clock

    def create(self, token: str) -> str:
        """A new session for `token`; returns its id (the cookie's value)."""
        register_secret(token)
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._entries[_key(session_id)] = (self._clock() + self._lifetime, token)
            while len(self._entries) > MAX_SESSIONS:
                self._entries.popitem(last=False)
        return session_id

    def token(self, session_id: str | None) -> str | None:
        """The token of a live session, or None (unknown, expired or signed out)."""
        if not session_id:
            return None
        key = _key(session_id)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                del self._entries[key]
                return None
            return entry[1]

    def drop(self, session_id: str | None) -> None:
        """Sign out: forget the session."""
        if session_id:
            with self._lock:
                self._entries.pop(_key(session_id), None)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(cookie: str | None, submitted: str | None) -> bool:
    """Whether a form echoed the browser's CSRF cookie (both present, equal, compared in constant time)."""
    if not cookie or not submitted:
        return False
    return hmac.compare_digest(cookie.encode("utf-8"), submitted.encode("utf-8"))
