"""Which repository URLs a registry's worker may fetch, decided before any connection is made.

A registry serving other people must not become their way into the server's disk or network. The policy a
remote caller gets: `https` (plain `http` and private addresses only for allowlisted hosts, `ssh` only when the
server has a key), no local paths or `file://`, no user-info in the URL (credentials come from the server), and
every address the host resolves to must be public. The checked address is pinned for the fetch (`Target`), so
a DNS answer that changes between the check and the connection (rebinding) is never used.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import SplitResult, urlsplit

from dlhub_manifest.errors import UsageError
from dlhub_manifest.repository.urls import strip_credentials

DEFAULT_TIMEOUT = 300.0
DEFAULT_MAX_BYTES = 2 << 30
PORTS = {"https": 443, "http": 80, "ssh": 22}
_SCP_USER = "git"


class FetchRefused(UsageError):
    """The policy does not allow fetching this URL; the message says why and what the caller can do."""


@dataclass(frozen=True)
class FetchPolicy:
    """What a fetch may reach and how long and large it may be (stored with each task, so any worker obeys it).

    `trusted`: the caller is this machine's own user (the local registry): local paths and any host are fine.
    """

    trusted: bool = False
    allow_hosts: tuple[str, ...] = ()
    ssh_key: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = DEFAULT_MAX_BYTES
    max_file_bytes: int | None = None

    @classmethod
    def local(cls) -> FetchPolicy:
        return cls(trusted=True)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "allow_hosts": list(self.allow_hosts)}

    @classmethod
    def from_json(cls, data: Any) -> FetchPolicy:
        """The stored policy; a task without one (or with a damaged one) gets the strict default."""
        if not isinstance(data, dict):
            return cls()
        try:
            return cls(trusted=data.get("trusted") is True, allow_hosts=tuple(str(h).lower() for h in
                       data.get("allow_hosts") or ()), ssh_key=data.get("ssh_key") or None,
                       timeout=float(data.get("timeout", DEFAULT_TIMEOUT)),
                       max_bytes=int(data.get("max_bytes", DEFAULT_MAX_BYTES)),
                       max_file_bytes=int(data["max_file_bytes"]) if data.get("max_file_bytes") else None)
        except (TypeError, ValueError):
            return cls()

    def allowed_host(self, host: str, port: int) -> bool:
        return host.lower() in self.allow_hosts or f"{host.lower()}:{port}" in self.allow_hosts


@dataclass(frozen=True)
class Target:
    """A checked URL: what git is given, how it is shown, and the address every connection must go to."""

    url: str
    shown: str
    scheme: str
    host: str = ""
    port: int = 0
    address: str = ""
    git_config: tuple[str, ...] = field(default=())


def check_url(url: str, policy: FetchPolicy) -> Target:
    """The fetch target for `url` under `policy`, or FetchRefused saying why (no connection is made)."""
    text = url.strip()
    if not policy.trusted and ("::" in text.split("/", 1)[0] or text.startswith("-")):
        raise FetchRefused(f"{strip_credentials(text)[:80]!r} is not a repository URL (git transport helpers are "
                           "never run for you); use https://host/owner/repo")
    if "://" not in text and _scp_host(text) is None:
        if policy.trusted:
            return Target(text, text, "file")
        raise FetchRefused(f"{text!r} is a path; this registry fetches repositories only from URLs such as "
                           "https://host/owner/repo (local paths and file:// URLs are never fetched for you)")
    parts = _split(text)
    scheme = parts.scheme.lower()
    _check_userinfo(parts, scheme)
    if scheme == "file":
        if policy.trusted:
            return Target(text, text, "file")
        raise FetchRefused(f"{text!r}: file:// URLs are never fetched for you; push the repository to a forge "
                           "and publish its https:// URL")
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchRefused(f"{strip_credentials(text)!r} has no host name")
    port = _port(parts, scheme)
    _check_scheme(scheme, host, port, policy)
    if policy.trusted:
        return Target(text, text, scheme, host, port)
    address = resolve_public(host, port, policy)
    return _pinned(parts, scheme, host, port, address, policy)


def _split(text: str) -> SplitResult:
    if "://" not in text:  # scp syntax `git@host:owner/repo` is ssh://git@host/owner/repo
        user, _, rest = text.rpartition("@")
        host, _, path = rest.partition(":")
        text = f"ssh://{user or _SCP_USER}@{host}/{path.lstrip('/')}"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise FetchRefused(f"{strip_credentials(text)!r} is not a valid URL") from None
    return parts


def _scp_host(text: str) -> str | None:
    head = text.split("/", 1)[0]
    host = head.rpartition("@")[2].partition(":")[0] if ":" in head else ""
    return host if len(host) > 1 else None


def _check_userinfo(parts: SplitResult, scheme: str) -> None:
    """A password never travels in a URL; an ssh user name (`git@`) is not a secret and is allowed."""
    if parts.password is not None or (parts.username is not None and scheme not in ("ssh", "git+ssh")):
        raise FetchRefused("the repository URL carries credentials (user:password@); remove them: this registry "
                           "never takes credentials from a request (the server's administrator configures access "
                           "to private forges)")


def _port(parts: SplitResult, scheme: str) -> int:
    return parts.port or PORTS.get(scheme, 0)


def _check_scheme(scheme: str, host: str, port: int, policy: FetchPolicy) -> None:
    if scheme == "https" or policy.trusted:
        return
    if scheme == "http" and policy.allowed_host(host, port):
        return
    if scheme in ("ssh", "git+ssh") and policy.ssh_key:
        return
    allowed = "https" + (" or ssh" if policy.ssh_key else "")
    raise FetchRefused(f"{scheme}:// repository URLs are not fetched by this registry; use {allowed} "
                       "(e.g. https://github.com/owner/repo)")


def resolve_public(host: str, port: int, policy: FetchPolicy) -> str:
    """The address to connect to: every address of `host` must be public unless the host is allowlisted."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise FetchRefused(f"cannot resolve repository host {host!r}: {getattr(e, 'strerror', None) or e}") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise FetchRefused(f"repository host {host!r} has no address")
    if not policy.allowed_host(host, port):
        blocked = [a for a in addresses if not is_public(a)]
        if blocked:
            raise FetchRefused(f"repository host {host!r} resolves to a non-public address ({blocked[0]}); this "
                               "registry only fetches from public hosts (an administrator can allow an internal "
                               "forge with --allow-repository-host)")
    return addresses[0]


def is_public(address: str) -> bool:
    """Not loopback, private, link-local (cloud metadata), shared, multicast, reserved or unspecified."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _pinned(parts: SplitResult, scheme: str, host: str, port: int, address: str, policy: FetchPolicy) -> Target:
    """git settings that make every connection go to `address`, follow no redirect and use no proxy."""
    shown = strip_credentials(parts.geturl())
    if scheme in ("http", "https"):
        literal = f"[{address}]" if ":" in address else address
        config: tuple[str, ...] = (f"http.curloptResolve={host}:{port}:{literal}", "http.followRedirects=false",
                                   "http.proxy=")
        if not policy.allowed_host(host, port):
            config += ("credential.helper=",)  # the server's own credentials are for its allowlisted forges only
        return Target(parts.geturl(), shown, scheme, host, port, address, config)
    netloc = f"{parts.username or _SCP_USER}@{f'[{address}]' if ':' in address else address}:{port}"
    return Target(parts._replace(scheme="ssh", netloc=netloc).geturl(), shown, "ssh", host, port, address)
