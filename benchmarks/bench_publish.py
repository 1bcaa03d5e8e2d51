"""Publishing to the local registry against writing dlhub_sdk's zip of the same files; re-publishing.

The servable holds one large file of random (incompressible) weights and a few small code files. The
baseline is what dlhub_sdk did before uploading: `zipfile.ZipFile(path, "x")` and one `write` per file.
Each publish runs in a fresh process with a cold hash cache of its own (HOME and XDG_CACHE_HOME point into
the scratch directory); before every timed run (untimed) the disk is flushed and the servable read once, so
neither side pays for the other's writes or finds the files out of the page cache. Re-publishing changes
one small file and reuses the registry and the caches; it is timed through the CLI with the registry worker
gone (the judged figure: a user re-publishing later), through the CLI with the worker still running, and
through the Python API in a warm process.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _harness import Context, MiB, Result, Sample, compile_package, console_script, run_process

FIRST_TARGET = 1.0
RSS_TARGET_MIB = 100
BYTES_TARGET = 0.01
REPUBLISH_TARGET = 0.05

MANIFEST = """\
manifest_version: 1
name: big-weights
title: A servable with large weights
description: Benchmark servable; the weights are random bytes.
creators: ["Ward, Logan"]
license: MIT
servable:
  type: static_method
  options:
    function: model:predict
files: [weights.bin, "*.py"]
"""
CODE = {
    "model.py": "from preprocess import prepare\n\n\ndef predict(x: list[float]) -> list[float]:\n"
                "    return [v * 2 for v in prepare(x)]\n",
    "preprocess.py": "def prepare(x: list[float]) -> list[float]:\n    return [float(v) for v in x]\n",
    "utils.py": "VERSION = 1\n",
}

# The Python API in one warm process: the first call warms it up (imports, worker), the others are timed.
API_REPUBLISH = """
import json, sys, time
from pathlib import Path
import dlhub_manifest.api as api
project, registry, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
times = []
for i in range(count + 1):
    with (project / "utils.py").open("a", encoding="utf-8") as fh:
        fh.write(f"API = {i}  # one small change\\n")
    start = time.perf_counter()
    api.publish_servable(project, registry=registry, wait=True)
    times.append(time.perf_counter() - start)
print(json.dumps(times[1:]))
"""
WORKER_GONE_SECONDS = 60.0  # a worker lingers 20 s after its last task

# What dlhub_sdk did: one zip, stored, one write per file (run as its own process, like ours).
ZIP_BASELINE = """
import sys, zipfile
from pathlib import Path
project, out = Path(sys.argv[1]), sys.argv[2]
with zipfile.ZipFile(out, "x") as zf:
    for path in sorted(p for p in project.rglob("*") if p.is_file()):
        zf.write(path, arcname=str(path.relative_to(project)))
"""


def write_servable(folder: Path, size: int) -> int:
    """The benchmark project: `size` bytes of random weights plus small code files; returns its total size."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dlhub.yaml").write_text(MANIFEST, encoding="utf-8")
    for name, text in CODE.items():
        (folder / name).write_text(text, encoding="utf-8")
    chunk = 16 * MiB
    with (folder / "weights.bin").open("wb") as fh:
        for offset in range(0, size, chunk):
            fh.write(os.urandom(min(chunk, size - offset)))
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def tree_size(folder: Path) -> int:
    """Bytes in the files under `folder` (0 if it does not exist)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _env(home: Path) -> dict[str, str]:
    """A private HOME and cache, so no hash cache or login from the machine's user leaks into the run."""
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"),
               XDG_CONFIG_HOME=str(home / ".config"), XDG_DATA_HOME=str(home / ".local" / "share"))
    env.pop("DLHUB_MANIFEST_TOKEN", None)
    return env


@dataclass(frozen=True)
class Publish:
    """One publish: the client process's sample and the peak RSS of the registry worker it started."""

    sample: Sample
    worker_rss: int | None

    @property
    def peak(self) -> int:
        return max(self.sample.max_rss, self.worker_rss or 0)


def _worker_pids(registry: Path) -> list[int]:
    """The detached registry workers serving `registry` (found by their command line; this run's folder)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if b"dlhub_manifest.registry.worker" in args and os.fsencode(registry) in args:
            pids.append(int(cmdline.parent.name))
    return pids


def _high_water(pid: int) -> int | None:
    """VmHWM of a live process in bytes: its own peak RSS so far (a fresh address space since its exec)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _wait_gone(registry: Path, timeout: float = WORKER_GONE_SECONDS) -> bool:
    """Wait until the registry's worker has left by itself (it lingers after its last task); False on timeout."""
    deadline = time.monotonic() + timeout
    while _worker_pids(registry):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


def _settled(project: Path) -> None:
    """The same start for every timed run: no dirty pages of the previous run left to write back, and the
    servable's files read once (this VM also evicts idle cache pages; the first reader would pay for it)."""
    os.sync()
    for path in project.iterdir():
        with path.open("rb") as fh:
            while fh.read(16 * MiB):
                pass


def _publish(project: Path, registry: Path, home: Path) -> Publish:
    """Publish and wait; the worker's peak is read while it idles after the task (an idle worker sleeps)."""
    argv = [console_script("dlhub-manifest"), "publish", str(project), "--registry", str(registry), "--wait"]
    _settled(project)
    sample = run_process(argv, env=_env(home))
    peaks = [rss for rss in map(_high_water, _worker_pids(registry)) if rss is not None]
    return Publish(sample, max(peaks) if peaks else None)


def _zip(project: Path, out: Path) -> Sample:
    out.unlink(missing_ok=True)
    _settled(project)
    return run_process([sys.executable, "-c", ZIP_BASELINE, str(project), str(out)])


def _change(project: Path, i: int) -> None:
    with (project / "utils.py").open("a", encoding="utf-8") as fh:
        fh.write(f"VERSION = {i}  # one small change\n")


@dataclass(frozen=True)
class Round:
    """A zip of the servable and a first publish of it into a fresh registry with a fresh home."""

    zipped: Sample
    first: Publish
    registry: Path
    home: Path


def _round(ctx: Context, project: Path, i: int) -> Round:
    zipped = _zip(project, ctx.workdir / "servable.zip")
    (ctx.workdir / "servable.zip").unlink()  # keep the disk (and its cache) as the publish will find it
    registry, home = ctx.workdir / f"registry-{i}", ctx.workdir / f"home-{i}"
    return Round(zipped, _publish(project, registry, home), registry, home)


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def _rss_note(p: Publish) -> str:
    worker = f"{p.worker_rss / MiB:.0f} MiB" if p.worker_rss else "not seen (had exited)"
    return f"publish process {p.sample.max_rss / MiB:.0f} MiB, registry worker {worker}"


@dataclass
class Republished:
    """Re-publish times (seconds): CLI with a worker to start, CLI with one running, API in a warm process."""

    cold: list[Publish]
    warm: list[Publish]
    api: list[float]
    added: int  # bytes the first re-publish added to the blob store
    stale: int  # cold runs that found a worker still running (it did not leave in time)


def _republish(ctx: Context, project: Path, registry: Path, home: Path, count: int) -> Republished:
    """`count` CLI re-publishes after the worker left, each followed by one while it still runs; then the API."""
    out = Republished([], [], [], 0, 0)
    for i in range(count):
        out.stale += not _wait_gone(registry)
        before = tree_size(registry / "blobs")
        _change(project, 2 * i)
        out.cold.append(_publish(project, registry, home))
        out.added = out.added or tree_size(registry / "blobs") - before
        _change(project, 2 * i + 1)
        out.warm.append(_publish(project, registry, home))
    ctx.log(f"   Python API: {count} re-publish(es) in one warm process")
    proc = subprocess.run([sys.executable, "-c", API_REPUBLISH, str(project), str(registry), str(count)],
                          env=_env(home), capture_output=True, text=True, check=True)
    out.api = json.loads(proc.stdout)
    return out


def _floor(count: int) -> float:
    """The interpreter's own start-up (python -c pass): what any Python CLI pays before its first import."""
    return _median([run_process([sys.executable, "-c", "pass"]).wall for _ in range(count)])


def run(ctx: Context) -> list[Result]:
    """First publish vs zip (time, RSS), then re-publishes with one small file changed (bytes, time)."""
    compile_package("dlhub_manifest")
    project = ctx.workdir / "servable"
    total = write_servable(project, ctx.pick(1024, 64) * MiB)
    repeats = ctx.pick(3, 1)
    ctx.log(f"   {total / MiB:,.0f} MiB servable: {repeats} round(s) of zip + first publish")
    rounds = [_round(ctx, project, i) for i in range(repeats)]
    zip_wall = _median([r.zipped.wall for r in rounds])
    first_wall = _median([r.first.sample.wall for r in rounds])
    best = min(r.first.sample.wall for r in rounds) / min(r.zipped.wall for r in rounds)
    heaviest = max((r.first for r in rounds), key=lambda p: p.peak)
    last = rounds[-1]
    stored = tree_size(last.registry / "blobs")
    count = ctx.pick(5, 1)
    ctx.log(f"   {count} re-publish(es) with one small file changed (each waits for the worker to leave)")
    again = _republish(ctx, project, last.registry, last.home, count)
    cold = _median([p.sample.wall for p in again.cold])
    stale = f"; {again.stale} run(s) found the worker still running" if again.stale else ""
    return [
        Result("publish", f"first publish of {total / MiB:,.0f} MiB (median of {repeats})", first_wall, "s",
               "zipfile.ZipFile('x'), one write per file", zip_wall, FIRST_TARGET,
               note=f"fastest runs {min(r.first.sample.wall for r in rounds):.2f} s vs "
                    f"{min(r.zipped.wall for r in rounds):.2f} s (ratio {best:.2f}); CPU time of the publish "
                    f"process {last.first.sample.cpu:.2f} s, of the zip {last.zipped.cpu:.2f} s; blobs stored "
                    f"{stored:,} bytes"),
        Result("publish", "peak RSS of the first publish", heaviest.peak / MiB, "MiB", limit=RSS_TARGET_MIB,
               note=_rss_note(heaviest) + " (each one's own high-water mark)"),
        Result("publish", "re-publish, one small file changed: bytes added to the blob store", again.added, "B",
               "servable size", total, BYTES_TARGET),
        Result("publish", f"re-publish, one small file changed: time, CLI starting a worker (median of {count})",
               cold, "s", "first publish", first_wall, REPUBLISH_TARGET,
               note=f"runs {_runs(again.cold)}{stale}; " + _rss_note(again.cold[-1])),
        Result("publish", f"re-publish: time, CLI with the worker still running (median of {count})",
               _median([p.sample.wall for p in again.warm]), "s", "first publish", first_wall,
               note=f"runs {_runs(again.warm)}"),
        Result("publish", f"re-publish: time, Python API in a warm process (median of {count})",
               statistics.median(again.api), "s", "first publish", first_wall,
               note="runs " + ", ".join(f"{t * 1000:.0f} ms" for t in again.api)),
        Result("publish", "interpreter start-up floor (python -c pass)", _floor(count) * 1000, "ms",
               note="what any Python CLI pays before its first import, measured in this run"),
    ]


def _runs(publishes: list[Publish]) -> str:
    return ", ".join(f"{p.sample.wall * 1000:.0f} ms" for p in publishes)
