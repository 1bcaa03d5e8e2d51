"""One spelling per repository: git remote URLs normalised for provenance, with credentials always removed.

`git@github.com:o/r.git`, `ssh://git@github.com/o/r` and `https://user:token@github.com/o/r.git` all become
`https://github.com/o/r`; a local path becomes an absolute `file://` URL (kept exactly, `.git` included,
because a worker clones from it).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import SplitResult, unquote, urlsplit

from dlhub_manifest.errors import UsageError
from dlhub_manifest.util.logsafe import register_secret

SSH_SCHEMES = frozenset({"ssh", "git", "git+ssh", "ssh+git"})
DEFAULT_PORTS = {"http": 80, "https": 443}
HTTP_SCHEMES = frozenset(DEFAULT_PORTS)
_SCP = re.compile(r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>.*)$")
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]*@")


class RemoteURLError(UsageError):
    """A remote URL that cannot name a repository to fetch from."""


def normalize_remote_url(url: str, base: Path | None = None) -> str:
    """The canonical, credential-free form of a git remote; relative paths are taken from `base` (or cwd)."""
    text = url.strip()
    if not text or text.startswith("-") or "::" in text.split("/", 1)[0]:
        raise RemoteURLError(f"{strip_credentials(text)!r} is not a git remote URL; use https://host/owner/repo, "
                             "git@host:owner/repo or a local path")
    if "://" in text:
        return _from_url(text, base)
    scp = _SCP.match(text)
    if scp and len(scp["host"]) > 1:  # `C:\repo` is a Windows drive, not host `C`
        return _https(scp["host"], scp["path"])
    return local_path(text, base).as_uri()


def as_sent(url: str, base: Path | None = None) -> str:
    """A remote URL exactly as configured, minus credentials: what a registry is told to fetch (and records).

    https user-info is dropped entirely; an ssh user name (`git@`) is kept, its password dropped. A local path
    becomes an absolute `file://` URL (a relative one means nothing elsewhere).
    """
    text = url.strip()
    if "://" not in text:
        scp = _SCP.match(text)
        if scp and len(scp["host"]) > 1:
            user, at, _ = text.partition("@")
            return text if not at or ":" not in user else f"{user.split(':', 1)[0]}@{text.split('@', 1)[1]}"
        return local_path(text, base).as_uri()
    parts = urlsplit(text)
    register_secret(parts.password)
    scheme = parts.scheme.lower()
    if scheme == "file":
        return local_path(text, base).as_uri()
    if parts.username is None and parts.password is None:
        return text
    host = parts.netloc.rpartition("@")[2]
    keep_user = scheme in SSH_SCHEMES and parts.username
    return parts._replace(netloc=f"{parts.username}@{host}" if keep_user else host).geturl()


def strip_credentials(text: str) -> str:
    """`text` with the user:password part of every URL in it removed (for messages and logs)."""
    return _USERINFO.sub(lambda m: m["scheme"], text)


def local_path(text: str, base: Path | None = None) -> Path:
    """The absolute path a local remote (plain path or `file://` URL) points to."""
    raw = unquote(urlsplit(text).path) if text.startswith("file://") else text
    path = Path(raw).expanduser()
    return (path if path.is_absolute() else (base or Path.cwd()) / path).resolve()


def _from_url(text: str, base: Path | None) -> str:
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    register_secret(parts.password)  # a token pasted into a remote URL must never reach a log
    if scheme == "file":
        return local_path(text, base).as_uri()
    if not parts.hostname:
        raise RemoteURLError(f"{strip_credentials(text)!r} has no host name")
    if scheme in SSH_SCHEMES:
        return _https(parts.hostname, parts.path)
    if scheme in HTTP_SCHEMES:
        return _https(_host_port(parts.hostname, parts, scheme), parts.path, scheme)
    raise RemoteURLError(f"remote URL scheme {scheme!r} is not supported; use https, ssh or a local path")


def _host_port(host: str, parts: SplitResult, scheme: str) -> str:
    """The host, with the port only when it is not the scheme's default (so both spellings compare equal)."""
    try:
        port = parts.port
    except ValueError:
        raise RemoteURLError(f"{strip_credentials(parts.geturl())!r} has an invalid port") from None
    return host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"


def _https(host: str, path: str, scheme: str = "https") -> str:
    clean = path.strip("/")
    clean = clean[: -len(".git")] if clean.endswith(".git") else clean
    return f"{scheme}://{host.lower()}/{clean.rstrip('/')}"
