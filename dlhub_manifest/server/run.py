"""Run the registry over HTTP: uvicorn serving the Starlette app, with the task worker beside it.

The worker is the same `python -m dlhub_manifest.registry.worker` the local target uses, started as a
child process that never idles out, and restarted if it dies, so publishing over HTTP and locally run
the same code. Globus Auth is configured from the environment so the client secret never sits in argv.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dlhub_manifest.errors import UsageError
from dlhub_manifest.registry.blobstore import open_blob_store
from dlhub_manifest.registry.records import verify_records
from dlhub_manifest.registry.worker import DATABASE_ENV, FOREVER
from dlhub_manifest.server.app import Settings, WorkerSettings, create_app
from dlhub_manifest.server.auth import Authenticator, Chain, GlobusIntrospection, TokensFile
from dlhub_manifest.server.web.globus_login import GlobusWebLogin
from dlhub_manifest.util.procutil import stop_process

SERVER_CLIENT_ID_ENV = "DLHUB_MANIFEST_SERVER_CLIENT_ID"
SERVER_CLIENT_SECRET_ENV = "DLHUB_MANIFEST_SERVER_CLIENT_SECRET"
log = logging.getLogger("dlhub_manifest.server")


@dataclass(frozen=True)
class GlobusServerConfig:
    """The server's confidential client (introspects tokens) and what `/auth` advertises to clients."""

    client_id: str
    client_secret: str
    scope: str
    native_client_id: str | None = None

    def advertised(self) -> dict[str, str | None]:
        return {"scope": self.scope, "resource_server": self.client_id, "native_client_id": self.native_client_id}

    def web_login(self) -> GlobusWebLogin:
        """Signing in to the web pages through Globus Auth with this same client and scope."""
        return GlobusWebLogin(self.client_id, self.client_secret, self.scope)


def globus_config(client_id: str | None, scope: str | None, native_client_id: str | None) -> GlobusServerConfig | None:
    """Globus settings from options and `DLHUB_MANIFEST_SERVER_CLIENT_ID/SECRET` (None when not configured)."""
    client_id = client_id or os.environ.get(SERVER_CLIENT_ID_ENV)
    if not client_id:
        return None
    secret = os.environ.get(SERVER_CLIENT_SECRET_ENV, "")
    if not secret:
        raise UsageError(f"Globus Auth needs the server's client secret in ${SERVER_CLIENT_SECRET_ENV}")
    return GlobusServerConfig(client_id, secret, scope or f"https://auth.globus.org/scopes/{client_id}/all",
                              native_client_id)


def build_authenticator(tokens: Path | None, globus: GlobusServerConfig | None,
                        trusted_publishers: Path | None = None) -> Authenticator:
    """Tokens file first, then trusted publishers' ID tokens, then Globus introspection; at least one."""
    from dlhub_manifest.server.oidc import TrustedPublishers

    sources: list[Authenticator] = []
    if tokens is not None:
        sources.append(TokensFile(tokens))
    if trusted_publishers is not None:
        sources.append(TrustedPublishers.from_file(trusted_publishers))
    if globus is not None:
        sources.append(GlobusIntrospection(globus.client_id, globus.client_secret))
    if not sources:
        raise UsageError("serve needs a way to check tokens: --tokens FILE, --trusted-publishers FILE, or Globus "
                         "Auth with "
                         f"--globus-client-id (or ${SERVER_CLIENT_ID_ENV}) and ${SERVER_CLIENT_SECRET_ENV}")
    return sources[0] if len(sources) == 1 else Chain(sources)


def run(settings: Settings, host: str, port: int, *, worker: bool = True, log_level: str = "info") -> None:
    """Serve until interrupted, then stop the worker: Ctrl-C raises KeyboardInterrupt, SIGTERM SystemExit(143)."""
    import uvicorn

    settings.root.mkdir(parents=True, exist_ok=True)
    if settings.database is not None:
        verify_records(settings.root, settings.database)  # refuse a wrong URL or schema before serving
    open_blob_store(settings.root, settings.blob_store).ensure_reachable()  # a wrong bucket stops serve now
    config = uvicorn.Config(create_app(settings), host=host, port=port, log_level=log_level, server_header=False,
                            timeout_graceful_shutdown=5)
    workers = _workers(settings) if worker else contextlib.nullcontext()
    with _sigterm_exits(), workers, upload_janitor(settings):
        # Not uvicorn.run(): it swallows the KeyboardInterrupt that Server re-raises after a Ctrl-C shutdown,
        # so serve exited 0 when interrupted; the CLI turns it into exit 130.
        uvicorn.Server(config).run()


@contextlib.contextmanager
def _sigterm_exits() -> Iterator[None]:
    """Make SIGTERM raise SystemExit(143) in this block, so the worker is stopped before the process ends.

    uvicorn re-raises the signal that stopped it once it has shut down; with SIGTERM's default action that
    killed the process on the spot and left the worker (which never idles out) running for ever.
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def exit_143(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_143)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _workers(settings: Settings) -> Iterator[None]:
    """`settings.workers.count` supervised workers, one per slot (on the shared queue with `database`)."""
    with contextlib.ExitStack() as stack:
        for slot in range(settings.workers.count):
            blobs = settings.blob_store.argv() if settings.blob_store else []
            stack.enter_context(supervised_worker(settings.root, [*_worker_args(settings.workers, slot), *blobs],
                                                  settings.database))
        yield


def _worker_args(workers: WorkerSettings, slot: int) -> list[str]:
    args = ["--slot", str(slot)]
    if workers.owner_limit is not None:
        args += ["--owner-limit", str(workers.owner_limit)]
    if workers.deadline is not None:
        args += ["--deadline", str(workers.deadline)]
    return args


@contextlib.contextmanager
def upload_janitor(settings: Settings) -> Iterator[None]:
    """Remove abandoned uploads older than `quotas.upload_max_age`, at start and then periodically."""
    from dlhub_manifest.server.uploads import UploadArea

    blobs = open_blob_store(settings.root, settings.blob_store)
    area, age = UploadArea(settings.root, blobs, settings.quotas), settings.quotas.upload_max_age
    stop = threading.Event()

    def loop() -> None:
        while True:
            removed = area.clean(age)
            if removed:
                log.info("removed %d abandoned upload(s) older than %g s", removed, age)
            if stop.wait(min(max(age / 4, 0.25), 3600.0)):
                return

    thread = threading.Thread(target=loop, name="upload-janitor", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


@contextlib.contextmanager
def supervised_worker(root: Path, extra: list[str] | None = None, database: str | None = None) -> Iterator[None]:
    """A worker child process for `root` (on `database`'s shared queue when given), restarted when it exits,
    stopped when the block ends."""
    stop = threading.Event()
    holder: list[subprocess.Popen[bytes]] = []

    def loop() -> None:
        while not stop.is_set():
            with _worker_process(root, extra or [], database) as proc:
                holder[:] = [proc]
                while proc.poll() is None and not stop.wait(0.5):
                    pass
            stop.wait(2.0)  # another worker may hold the registry's lock: do not spin

    thread = threading.Thread(target=loop, name="worker-supervisor", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=15)


@contextlib.contextmanager
def _worker_process(root: Path, extra: list[str], database: str | None) -> Iterator[subprocess.Popen[bytes]]:
    # --parent: the worker exits when serve is gone, even if serve was SIGKILLed and could not stop it.
    argv = [sys.executable, "-m", "dlhub_manifest.registry.worker", "--registry", str(root),
            "--idle", str(FOREVER), "--parent", str(os.getpid()), *extra]
    env = dict(os.environ)
    if database is not None:
        env[DATABASE_ENV] = database  # not in argv, where `ps` would show a password in the URL
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, env=env)
    try:
        yield proc
    finally:
        stop_process(proc, grace=10)
