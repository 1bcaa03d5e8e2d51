"""Benchmark harness: the machine's description, timing of child processes, and results with their targets.

Every benchmark compares itself with a baseline measured in the same run, so the ratio holds on any machine;
runs of the two sides are interleaved so that both see the same background load.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MiB = 1024 * 1024


# --- the machine ---------------------------------------------------------------------------------

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / MiB:.1f} GiB"
    except (OSError, ValueError):
        pass
    return "unknown"


def machine() -> dict[str, str]:
    """What the numbers were measured on: CPUs, memory, Python, OS, and the load when the run started."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return {
        "CPU": f"{_cpu_model()} ({os.cpu_count()} logical CPUs, {usable} usable)",
        "Memory": _memory_total(),
        "Python": f"{platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        "OS": platform.platform(),
        "Load average at start (1, 5, 15 min)": load,
    }


def random_file(path: Path, size: int) -> str:
    """Write `size` random bytes (nothing compresses or deduplicates them) to `path`; returns their sha256."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("wb") as fh:
        for _ in range(0, size, 16 * MiB):
            chunk = os.urandom(min(16 * MiB, size))
            digest.update(chunk)
            fh.write(chunk)
    return digest.hexdigest()


# --- timing --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sample:
    """One run of a child process: wall time, CPU time (user + sys) and peak resident memory."""

    wall: float
    cpu: float
    max_rss: int
    returncode: int


class CommandFailed(RuntimeError):
    """A measured command exited with an unexpected status: its numbers would be meaningless."""


# Runs one command and writes "exit wall cpu maxrss" to a file. Peak RSS must come from a small parent:
# a child started by vfork/fork of a big process (this runner, pytest) inherits that process's high-water
# mark at exec, so wait4 would report the parent's memory. This launcher (python -S, about 5 MiB) forks the
# command itself, so only figures below its own size are distorted, and it times fork to exit, not its start.
_LAUNCHER = """
import os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(out, "w") as fh:
    fh.write(f"{os.waitstatus_to_exitcode(status)} {wall} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss}")
"""


def run_process(argv: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
                expect: int | None = 0) -> Sample:
    """Run `argv` once and measure its wall time, CPU time (user + sys) and peak RSS (its own, children included)."""
    with tempfile.TemporaryDirectory(prefix="dlhub-bench-run-") as tmp:
        report, errors = Path(tmp) / "report", Path(tmp) / "stderr"
        with errors.open("wb") as err:
            subprocess.run([sys.executable, "-S", "-E", "-c", _LAUNCHER, str(report), *argv], cwd=cwd, env=env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, check=True)
        code, wall, cpu, rss_kib = report.read_text(encoding="utf-8").split()
        if expect is not None and int(code) != expect:
            tail = errors.read_bytes()[-2000:].decode("utf-8", "replace")
            raise CommandFailed(f"{' '.join(argv[:4])} ... exited {code} (expected {expect}): {tail}")
    # ru_maxrss is KiB on Linux.
    return Sample(float(wall), float(cpu), int(rss_kib) * 1024, int(code))


@dataclass
class Samples:
    """Repeated runs of one command; medians resist the odd slow run on a shared machine."""

    runs: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.runs)

    @property
    def best(self) -> float:
        """The fastest run's wall time: the least disturbed by other load on the machine."""
        return min(s.wall for s in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.runs)

    @property
    def max_rss(self) -> int:
        return max(s.max_rss for s in self.runs)


def interleaved(commands: Mapping[str, Sequence[str]], repeats: int, *, warmup: int = 1,
                cwd: Path | None = None) -> dict[str, Samples]:
    """Run each command `repeats` times, alternating between them, after `warmup` unrecorded rounds."""
    out = {name: Samples() for name in commands}
    for round_ in range(warmup + repeats):
        for name, argv in commands.items():
            sample = run_process(argv, cwd=cwd)
            if round_ >= warmup:
                out[name].runs.append(sample)
    return out


def time_calls(fn: Callable[[], object], repeats: int, *, warmup: int = 1) -> list[float]:
    """Wall times (seconds) of `repeats` in-process calls of `fn`, for API-level benchmarks."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0-100) by linear interpolation; p=50 is the median."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of no values")
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def compile_package(name: str) -> None:
    """Write the bytecode of package `name`, as pip does when it installs a wheel.

    An editable checkout run with PYTHONDONTWRITEBYTECODE=1 would otherwise recompile every module on every
    start, which no installed tool (the baselines included) pays.
    """
    import compileall
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise CommandFailed(f"package {name!r} is not importable; pip install -e . first")
    for folder in spec.submodule_search_locations:
        compileall.compile_dir(folder, quiet=1)


def console_script(name: str) -> str:
    """The console script `name` installed next to this Python (so baselines and ours launch the same way)."""
    candidate = Path(sys.executable).parent / name
    if candidate.is_file():
        return str(candidate)
    raise CommandFailed(f"console script {name!r} is not installed next to {sys.executable}; "
                        "install it (pip install -e . for dlhub-manifest) and run again")


# --- results -------------------------------------------------------------------------------------

@dataclass
class Result:
    """One measured figure, with its baseline (same run) and target; the target bounds the ratio if there
    is a baseline, otherwise the value itself."""

    benchmark: str
    metric: str
    value: float
    unit: str
    baseline: str | None = None
    baseline_value: float | None = None
    limit: float | None = None
    higher_is_better: bool = False
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline_value is None or self.baseline_value == 0:
            return None
        return self.value / self.baseline_value

    @property
    def status(self) -> str:
        """PASS or MISS against the target; `info` for figures reported without one."""
        checked = self.ratio if self.baseline_value is not None else self.value
        if self.limit is None or checked is None:
            return "info"
        ok = checked >= self.limit if self.higher_is_better else checked <= self.limit
        return "PASS" if ok else "MISS"

    def target_text(self) -> str:
        if self.limit is None:
            return ""
        sign = "≥" if self.higher_is_better else "≤"
        return f"{sign} {self.limit:g}×" if self.baseline_value is not None else f"{sign} {self.limit:g} {self.unit}"


@dataclass
class Context:
    """What a benchmark module gets: the run's options and a fresh scratch directory of its own."""

    quick: bool
    workdir: Path
    repo: Path
    baselines: dict[str, str]
    log: Callable[[str], None]

    def pick(self, full: int, quick: int) -> int:
        """A size or count: `full` normally, `quick` under --quick."""
        return quick if self.quick else full


def fmt(value: float | None, unit: str = "") -> str:
    """A number for the results table, with a sensible precision for its size."""
    if value is None:
        return ""
    # counts (bytes, files) read better without decimals
    digits = 0 if float(value).is_integer() else 3 if abs(value) < 1 else 2 if abs(value) < 100 else 0
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".rstrip()
