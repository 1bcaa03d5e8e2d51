"""Test helpers for the HTTP registry: a real `dlhub-manifest serve` subprocess and a fault-injecting proxy.

The proxy speaks just enough HTTP/1.1 to act per request: pass it through, answer 503, drop the
connection after part of the body, or stall before answering. Every request it saw is logged.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

from dlhub_manifest.util.procutil import stop_process

TOKENS = {
    "alice": "alice-token-0123456789abcdef",
    "bob": "bob-token-0123456789abcdef0",
}
IDS = {
    "alice": "urn:globus:auth:identity:aaaaaaaa-0000-4000-8000-000000000001",
    "bob": "urn:globus:auth:identity:bbbbbbbb-0000-4000-8000-000000000002",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_tokens(path: Path) -> Path:
    lines = [f"{TOKENS[u]}: {{id: '{IDS[u]}', username: {u}}}" for u in TOKENS]
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class Server:
    url: str
    root: Path
    proc: subprocess.Popen[bytes]
    log: Path

    def headers(self, user: str = "alice") -> dict[str, str]:
        return {"Authorization": f"Bearer {TOKENS[user]}"}


@contextlib.contextmanager
def running_server(workdir: Path, *extra: str, root: Path | None = None) -> Iterator[Server]:
    """`python -m dlhub_manifest serve` on a free port (registry folder `root`, default workdir/registry);
    yields once `/healthz` answers."""
    port = free_port()
    root, log = root or workdir / "registry", workdir / "server.log"
    tokens = write_tokens(workdir / "tokens.yaml")
    argv = [sys.executable, "-m", "dlhub_manifest", "serve", "--registry", str(root), "--port", str(port),
            "--tokens", str(tokens), *extra]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    server = Server(f"http://127.0.0.1:{port}", root, proc, log)
    try:
        _wait_until_up(server)
        yield server
    finally:
        stop_process(proc, grace=20)


def _wait_until_up(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(f"server exited with {server.proc.returncode}:\n{server.log.read_text()}")
        with contextlib.suppress(requests.ConnectionError):
            if requests.get(server.url + "/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.05)
    raise AssertionError(f"server did not answer within {timeout}s:\n{server.log.read_text()}")


@dataclass
class Seen:
    method: str
    path: str
    action: str
    headers: dict[str, str]
    body_bytes: int = 0


@dataclass
class FaultProxy:
    """A proxy in front of `upstream`; `plan` holds (method, path prefix, action) used once each, in order.

    Actions: `pass`, `503` (answer Service Unavailable), `drop:<n>` (forward n body bytes then reset both
    connections), `cut` (forward, let the server answer, then reset the client instead of answering),
    `stall:<seconds>` (forward, then hold the answer back that long before closing).
    """

    upstream: str
    plan: list[tuple[str, str, str]] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        host, port = self.upstream.removeprefix("http://").split(":")
        self._target = (host, int(port))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def requests_to(self, method: str, prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(prefix)]

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _action(self, method: str, path: str) -> str:
        with self._lock:
            for i, (m, prefix, action) in enumerate(self.plan):
                if m == method and path.startswith(prefix):
                    del self.plan[i]
                    return action
        return "pass"

    def _handle(self, client: socket.socket) -> None:
        with contextlib.closing(client):
            head, rest = _read_head(client)
            if head is None:
                return
            lines = head.split(b"\r\n")
            method, path, _ = lines[0].decode().split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in (ln.decode().partition(":") for ln in lines[1:])}
            action = self._action(method, path)
            seen = Seen(method, path, action, headers)
            with self._lock:
                self.seen.append(seen)
            if action == "503":
                body = b'{"code": "unavailable", "message": "injected 503"}'
                client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                               b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                return
            self._forward(client, head, rest, headers, action, seen)

    def _forward(self, client: socket.socket, head: bytes, rest: bytes, headers: dict[str, str], action: str,
                 seen: Seen) -> None:
        upstream = socket.create_connection(self._target)
        with contextlib.closing(upstream):
            kept = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"connection:")]
            upstream.sendall(b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n")
            length = int(headers.get("content-length", "0"))
            limit = int(action.split(":")[1]) if action.startswith("drop:") else length
            seen.body_bytes = _pipe_body(client, upstream, rest, min(length, limit))
            if action.startswith("drop:"):
                time.sleep(0.2)  # let the bytes reach the server before the reset
                _reset(upstream)
                _reset(client)
                return
            answer = _read_all(upstream)
            if action == "cut":  # the server did the work; the client never hears about it
                _reset(client)
                return
            if action.startswith("stall:"):
                time.sleep(float(action.split(":")[1]))
            with contextlib.suppress(OSError):
                client.sendall(answer)


def _read_head(sock: socket.socket) -> tuple[bytes | None, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _pipe_body(src: socket.socket, dst: socket.socket, first: bytes, length: int) -> int:
    sent = 0
    chunk = first
    while sent < length:
        if not chunk:
            chunk = src.recv(1 << 20)
            if not chunk:
                break
        part = chunk[: length - sent]
        dst.sendall(part)
        sent += len(part)
        chunk = chunk[len(part):]
    return sent


def _read_all(sock: socket.socket) -> bytes:
    out = bytearray()
    while chunk := sock.recv(1 << 20):
        out += chunk
    return bytes(out)


def _reset(sock: socket.socket) -> None:
    """Close with RST (SO_LINGER 0): what a dropped connection looks like to both ends."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
