"""The registry's web pages: render time of the search page and a servable's page with 10,000 servables.

`dlhub-manifest serve` on 127.0.0.1 with 10,000 servables written into its store (as in bench_http), plus one
full servable (the static-method example: creators, related works, two methods) with 3 versions of 200 files.
Each page is timed against the JSON API's answer to the same question (search `topic 42`; one servable),
requests alternating page, API, page, ... so both see the same load. Targets: p50 ≤ 30 ms for each page.
"""

from __future__ import annotations

import copy
import time
import uuid
from pathlib import Path

from _harness import Context, Result, percentile
from bench_http import TOKEN, _fill, _server

PAGE_P50_MS = 30
FULL = ("owner0", "scaler")


def _register_full(root: Path, repo: Path) -> None:
    """One realistic servable: the full example document, 3 versions of 200 files each."""
    from dlhub_manifest.build import build
    from dlhub_manifest.registry import store as q
    from dlhub_manifest.registry.document import fill_registry_fields, search_text

    document = build(repo / "tests" / "examples" / "valid" / "full-static" / "dlhub.yaml", inspect=False)
    document["dlhub"]["name"] = FULL[1]

    def write(conn: object) -> None:
        now = time.time()
        servable = q.ensure_servable(conn, *FULL, str(uuid.uuid4()), now)  # type: ignore[arg-type]
        for n, version in enumerate(("1.0.0", "1.1.0", "2.0.0")):
            doc = fill_registry_fields(copy.deepcopy(document), owner=FULL[0], uuid=servable["uuid"],
                                       version=version, now=now)
            files = [{"path": f"weights/part-{i:03d}.bin", "sha256": uuid.uuid4().hex * 2, "size": 1 << (10 + n),
                      "mode": 0o644} for i in range(200)]
            q.insert_version(conn, {"servable_id": servable["id"], "version": version, "document": q.dumps(doc),  # type: ignore[arg-type]
                                    "content_digest": uuid.uuid4().hex, "provenance": q.dumps({
                                        "repository": "https://github.com/owner0/scaler", "commit": "a" * 40}),
                                    "search_text": search_text(doc, FULL[0]), "created_at": now + n,
                                    "task_id": f"full-{n}"}, files)

    store = q.Store(root)
    try:
        store.write(write)  # type: ignore[arg-type]
    finally:
        store.close()


def _alternate(session: object, pairs: dict[str, tuple[str, str]], repeats: int) -> dict[str, list[float]]:
    """p50-ready wall times of each (page, api) URL pair, requested alternately after one warm-up round."""
    times: dict[str, list[float]] = {f"{k}:{side}": [] for k in pairs for side in ("page", "api")}
    for round_ in range(repeats + 1):
        for key, (page, api) in pairs.items():
            for side, url, headers in (("page", page, {"Accept": "text/html"}),
                                       ("api", api, {"Authorization": f"Bearer {TOKEN}"})):
                start = time.perf_counter()
                response = session.get(url, headers=headers)  # type: ignore[attr-defined]
                elapsed = time.perf_counter() - start
                response.raise_for_status()
                if round_:
                    times[f"{key}:{side}"].append(elapsed)
    return times


def run(ctx: Context) -> list[Result]:
    import requests

    count = ctx.pick(10_000, 1_000)
    with _server(ctx.workdir) as url:
        _fill(ctx.workdir / "registry", count)
        _register_full(ctx.workdir / "registry", ctx.repo)
        session = requests.Session()
        page = session.get(f"{url}/?q=topic+42", headers={"Accept": "text/html"})
        assert page.ok and "results" in page.text, page.text[:500]
        pairs = {
            "search": (f"{url}/?q=topic+42", f"{url}/search?q=topic+42&limit=20"),
            "servable": (f"{url}/s/{FULL[0]}/{FULL[1]}", f"{url}/servables/{FULL[0]}/{FULL[1]}"),
            "home": (f"{url}/", f"{url}/servables?limit=20"),
        }
        times = _alternate(session, pairs, ctx.pick(60, 10))
    what = {"search": "search page `?q=topic 42`", "servable": "servable page (3 versions × 200 files)",
            "home": "home page (first 20 of all)"}
    baseline = {"search": "GET /search (JSON API, same query)", "servable": "GET /servables/OWNER/NAME (JSON API)",
                "home": "GET /servables?limit=20 (JSON API)"}
    results = []
    for key in pairs:
        ours, api = (percentile(times[f"{key}:{s}"], 50) * 1000 for s in ("page", "api"))
        ctx.log(f"   {key}: page p50 {ours:.1f} ms, API p50 {api:.1f} ms")
        results.append(Result("web", f"{what[key]} p50 with {count:,} servables", ours, "ms",
                              limit=PAGE_P50_MS if key != "home" else None,
                              note=f"{baseline[key]} p50 {api:.1f} ms in the same run ({ours / api:.2f}×)"))
        results.append(Result("web", f"{what[key]} vs the JSON API", ours, "ms", baseline[key], api))
    return results
