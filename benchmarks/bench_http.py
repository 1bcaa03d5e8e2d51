"""The registry over HTTP on loopback.

Upload: our client's `upload_blob` (globus-sdk transport, resumable, progress) against a plain
`requests.put` of the same file to the same `dlhub-manifest serve`, interleaved; the blob is deleted
between runs so each one really stores it. Reads: `list` and `search` through the API with 10,000
servables in the registry (written straight into its SQLite store, as the worker would).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from _harness import Context, MiB, Result, percentile, random_file, time_calls

TOKEN = "bench-token-0123456789abcdef"
UPLOAD_TARGET = 0.7
SEARCH_P50_MS = 20
LIST_MS = 200


@contextlib.contextmanager
def _server(workdir: Path) -> Iterator[str]:
    import requests

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tokens = workdir / "tokens.yaml"
    tokens.write_text(f"{TOKEN}: {{username: bench}}\n")
    argv = [sys.executable, "-m", "dlhub_manifest", "serve", "--registry", str(workdir / "registry"), "--port",
            str(port), "--tokens", str(tokens), "--no-worker", "--max-blob-size", "4G"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(url + "/healthz", timeout=1).ok:
                    break
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _upload_results(ctx: Context, url: str) -> list[Result]:
    import requests

    from dlhub_manifest.credentials.login import Credentials, bearer_authorizer
    from dlhub_manifest.credentials.userconfig import TargetConfig
    from dlhub_manifest.targets.http import HttpTarget

    size = ctx.pick(1024, 64) * MiB
    path = ctx.workdir / "blob.bin"
    sha = random_file(path, size)
    stored = ctx.workdir / "registry" / "blobs" / sha[:2] / sha
    target = HttpTarget(TargetConfig(url), credentials=Credentials(bearer_authorizer(TOKEN), "bench"))
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/octet-stream"}

    def plain() -> None:
        with path.open("rb") as fh:
            requests.put(f"{url}/blobs/{sha}", data=fh, headers=headers, timeout=600).raise_for_status()

    def ours() -> None:
        target.upload_blob(path, sha, size, lambda _n: None)

    times: dict[str, list[float]] = {"plain": [], "ours": []}
    for _ in range(ctx.pick(3, 1)):
        for name, fn in (("plain", plain), ("ours", ours)):
            stored.unlink(missing_ok=True)
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
            assert stored.stat().st_size == size
    mib = size / MiB
    best = {k: mib / min(v) for k, v in times.items()}
    ctx.log(f"   upload {mib:,.0f} MiB: ours {best['ours']:,.0f} MiB/s, plain PUT {best['plain']:,.0f} MiB/s")
    return [Result("http", f"upload of {mib:,.0f} MiB over loopback (best of {len(times['ours'])})",
                   best["ours"], "MiB/s", "plain requests.put, same server", best["plain"], UPLOAD_TARGET,
                   higher_is_better=True)]


def _fill(root: Path, count: int) -> None:
    """`count` servables of 1 version each, in one transaction (what 10,000 worker registrations leave)."""
    from dlhub_manifest.registry import store as q
    from dlhub_manifest.registry.document import search_text

    def write(conn: object) -> None:
        now = time.time()
        for i in range(count):
            name = f"model-{i:05d}"
            doc = {"dlhub": {"name": name, "visible_to": ["public"]},
                   "datacite": {"titles": [{"title": f"Model {i} for topic {i % 97}"}],
                                "creators": [{"creatorName": "Ward, Logan"}]}}
            servable = q.ensure_servable(conn, f"owner{i % 50}", name, str(uuid.uuid4()), now)  # type: ignore[arg-type]
            q.insert_version(conn, {"servable_id": servable["id"], "version": "1.0.0", "document": q.dumps(doc),  # type: ignore[arg-type]
                                    "content_digest": uuid.uuid4().hex, "provenance": q.dumps({}),
                                    "search_text": search_text(doc, f"owner{i % 50}"), "created_at": now,
                                    "task_id": f"bench-{i}"}, [])

    store = q.Store(root)
    try:
        store.write(write)  # type: ignore[arg-type]
    finally:
        store.close()


def _read_results(ctx: Context, url: str) -> list[Result]:
    import requests

    count = ctx.pick(10_000, 1_000)
    _fill(ctx.workdir / "registry", count)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    assert len(session.get(f"{url}/servables").json()["servables"]) == count
    search = time_calls(lambda: session.get(f"{url}/search", params={"q": "topic 42"}).raise_for_status(),
                        ctx.pick(30, 5))
    listing = time_calls(lambda: session.get(f"{url}/servables").raise_for_status(), ctx.pick(10, 3))
    return [
        Result("http", f"search p50 with {count:,} servables", percentile(search, 50) * 1000, "ms",
               limit=SEARCH_P50_MS),
        Result("http", f"list p50 with {count:,} servables", percentile(listing, 50) * 1000, "ms", limit=LIST_MS),
    ]


def run(ctx: Context) -> list[Result]:
    with _server(ctx.workdir) as url:
        results = _upload_results(ctx, url)
        (ctx.workdir / "blob.bin").unlink(missing_ok=True)
        return results + _read_results(ctx, url)
