"""The registry on PostgreSQL: search and list with 100,000 servables, and publications per second with two
`serve` replicas against one.

A throw-away PostgreSQL cluster (the distribution's `initdb`/`pg_ctl`, as the tests start it) holds 100,000
servables (10,000 with `--quick`) written with COPY from the same catalog entries registration computes: titles,
descriptions, creators and keywords drawn from a 5,000-word vocabulary, one servable in ten private to a group.
Search and list run in-process through `RegistryService` (the code the HTTP app calls) as a group member:
search p50/p99 over a mix of single words, two words, word fragments and creator names; list pages of 100 after
random OWNER/NAME cursors. Publications: N publications (one changed document each) POSTed to the replicas
round-robin by 8 client threads; the time from the first POST until the database shows every task done.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from _harness import Context, Result, percentile, time_calls

SEARCH_P50_MS, SEARCH_P99_MS, LIST_P50_MS = 20, 100, 20
TOKEN = "bench-token-0123456789abcdef"
GROUP = "urn:globus:groups:id:bench-group"
CLIENTS = 8


def _services(repo: Path) -> Any:
    """The tests' PostgreSQL helpers (one way to start a cluster for both)."""
    if str(repo / "tests") not in sys.path:
        sys.path.insert(0, str(repo / "tests"))
    return importlib.import_module("services.postgres")


def _vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def _document(i: int, rng: random.Random, words: list[str], people: list[str]) -> dict[str, Any]:
    pick = lambda n: " ".join(rng.choice(words) for _ in range(n))  # noqa: E731
    dlhub: dict[str, Any] = {"name": f"model-{i:06d}", "visible_to": [GROUP] if i % 10 == 0 else ["public"]}
    return {"dlhub": dlhub, "datacite": {
        "titles": [{"title": f"Model {i} {pick(3)}"}],
        "descriptions": [{"description": pick(12), "descriptionType": "Abstract"}],
        "creators": [{"creatorName": rng.choice(people)}], "subjects": [{"subject": pick(1)} for _ in range(2)]}}


def _fill(url: str, count: int, rng: random.Random, words: list[str]) -> None:
    """`count` servables of one version each, with their catalog rows, in one COPY per table."""
    import psycopg

    from dlhub_manifest.registry.catalog import entry
    from dlhub_manifest.registry.pg.records import catalog_row

    people = [f"{rng.choice(words).title()}, {rng.choice(words).title()}" for _ in range(500)]
    now = time.time()
    servables, versions, entries = [], [], []
    for i in range(1, count + 1):
        owner, doc = f"owner{i % 200:03d}", _document(i, rng, words, people)
        text, name = json.dumps(doc), doc["dlhub"]["name"]
        servables.append((i, owner, name, str(uuid.uuid4()), now))
        versions.append((i, i, "1.0.0", text, uuid.uuid4().hex, "{}", "", now, f"bench-{i}"))
        entries.append(entry(i, [(i, "1.0.0", text, now, owner, name)]))
    tables = {
        "servables (id, owner, name, uuid, created_at)": servables,
        "versions (id, servable_id, version, document, content_digest, provenance, search_text, created_at, "
        "task_id)": versions,
        "catalog": [catalog_row(e) for e in entries],
        "catalog_access": [(e.servable_id, p) for e in entries for p in e.principals],
    }
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for table, rows in tables.items():  # one COPY at a time: a connection runs one COPY
            with cur.copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        for table in ("servables", "versions"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count})")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def _queries(rng: random.Random, words: list[str], n: int) -> list[str]:
    """Single words, two words, fragments of a word (3-5 letters) and people, in equal parts."""
    kinds = [lambda: rng.choice(words), lambda: f"{rng.choice(words)} {rng.choice(words)}",
             lambda: rng.choice(words)[rng.randrange(2):][:rng.randint(3, 5)],
             lambda: rng.choice(words).title()]
    return [kinds[i % len(kinds)]() for i in range(n)]


def _read_results(ctx: Context, url: str, count: int, rng: random.Random, words: list[str]) -> list[Result]:
    from dlhub_manifest.registry.service import Identity, RegistryService

    service = RegistryService(ctx.workdir / "registry", database=url)
    viewer = Identity("bench:viewer", "viewer", (GROUP,))
    queries = _queries(rng, words, ctx.pick(400, 80))
    found = [len(service.search(viewer, q)) for q in queries[:40]]
    pending = iter(queries * 2)
    search = time_calls(lambda: service.search_page(viewer, next(pending)), len(queries), warmup=len(queries))
    owners = [f"owner{rng.randrange(200):03d}/model-{rng.randrange(count):06d}" for _ in range(200)]
    after = iter(owners * 2)
    listing = time_calls(lambda: service.list_page(viewer, limit=100, after=next(after)), ctx.pick(200, 50))
    service.close()
    note = (f"{len(queries)} queries (words, word pairs, 3-5 letter fragments, names); {sum(found) / len(found):.0f} "
            "results on average of at most 50")
    return [
        Result("postgres", f"search p50 with {count:,} servables", percentile(search, 50) * 1000, "ms",
               limit=SEARCH_P50_MS, note=note),
        Result("postgres", f"search p99 with {count:,} servables", percentile(search, 99) * 1000, "ms",
               limit=SEARCH_P99_MS),
        Result("postgres", f"list page (100) p50 with {count:,} servables", percentile(listing, 50) * 1000, "ms",
               limit=LIST_P50_MS),
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _replicas(ctx: Context, url: str, count: int) -> Iterator[list[str]]:
    """`count` `dlhub-manifest serve` processes (each with its worker) on one database and blob folder."""
    import requests

    tokens = ctx.workdir / "tokens.yaml"
    tokens.write_text(f"{TOKEN}: {{username: bench}}\n")
    procs, urls = [], []
    for _ in range(count):
        port = _free_port()
        procs.append(subprocess.Popen([sys.executable, "-m", "dlhub_manifest", "serve", "--registry",
                                       str(ctx.workdir / "registry"), "--database", url, "--port", str(port),
                                       "--tokens", str(tokens)], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for u in urls:
            for _ in range(600):
                with contextlib.suppress(requests.ConnectionError):
                    if requests.get(u + "/healthz", timeout=1).ok:
                        break
                time.sleep(0.05)
        time.sleep(2.0)  # the workers load the document checker before they claim
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def _request(ctx: Context) -> dict[str, Any]:
    """One publication request whose file is already stored (the same blob for every publication)."""
    from publish_support import make_project

    from dlhub_manifest.publish.files import prepare_files
    from dlhub_manifest.targets.local import LocalTarget

    target = LocalTarget(ctx.workdir / "registry")
    prepared = prepare_files(make_project(ctx.workdir / "project"), inspect=False, target=target)
    request = prepared.request()
    request.pop("idempotency_key")
    return request


def _publish_rate(ctx: Context, url: str, replicas: int, total: int, request: dict[str, Any]) -> float:
    """Publications per second through `replicas` servers: first POST to every task done."""
    import psycopg
    import requests

    with _replicas(ctx, url, replicas) as urls:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {TOKEN}"

        def post(i: int) -> None:
            body = json.loads(json.dumps(request))
            body["document"]["dlhub"]["name"] = f"demo-{i % CLIENTS}"
            body["document"]["datacite"]["titles"] = [{"title": f"Demo {i}"}]
            session.post(f"{urls[i % len(urls)]}/publications", json=body, timeout=60).raise_for_status()

        start = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(post, range(total)))
        with psycopg.connect(url, autocommit=True) as conn:
            while True:
                row = conn.execute("SELECT COUNT(*) FILTER (WHERE status IN ('succeeded', 'failed')), COUNT(*) "
                                   "FILTER (WHERE status = 'failed') FROM tasks").fetchone()
                assert row is not None
                if row[0] >= total:
                    break
                time.sleep(0.02)
        elapsed = time.perf_counter() - start
        if row[1]:
            raise RuntimeError(f"{row[1]} publications failed during the benchmark")
    return total / elapsed


def _publish_results(ctx: Context, services: Any, server: Any) -> list[Result]:
    from dlhub_manifest.registry.pg.migrate import upgrade

    total = ctx.pick(200, 40)
    request = _request(ctx)
    rates = {}
    for replicas in (1, 2):
        url = services.create_database(server, f"publish{replicas}")
        upgrade(url)
        rates[replicas] = _publish_rate(ctx, url, replicas, total, request)
    return [
        Result("postgres", f"publications/s, one replica ({total} publications)", rates[1], "/s",
               higher_is_better=True),
        Result("postgres", f"publications/s, two replicas ({total} publications)", rates[2], "/s",
               baseline="one replica", baseline_value=rates[1], higher_is_better=True,
               note="reported, no target: on one machine both replicas share its cores and its database"),
    ]


def run(ctx: Context) -> list[Result]:
    from dlhub_manifest.registry.pg.migrate import upgrade

    services = _services(ctx.repo)
    rng = random.Random(13)
    words = _vocabulary(rng)
    with services.temporary_cluster() as server:
        url = services.create_database(server, "catalog")
        upgrade(url)
        count = ctx.pick(100_000, 10_000)
        started = time.perf_counter()
        _fill(url, count, rng, words)
        ctx.log(f"postgres: {count:,} servables written in {time.perf_counter() - started:.1f}s")
        return _read_results(ctx, url, count, rng, words) + _publish_results(ctx, services, server)
