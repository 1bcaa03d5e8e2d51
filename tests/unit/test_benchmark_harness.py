"""The benchmark harness: targets, child-process measurements, interleaving, the results file (no timing asserts)."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import _baselines  # noqa: E402
import _harness  # noqa: E402
import bench_validate  # noqa: E402
import run as bench_run  # noqa: E402
from _harness import CommandFailed, MiB, Result, interleaved, percentile, run_process  # noqa: E402

from dlhub_manifest.manifest.validate import validate_path  # noqa: E402


def test_percentile_interpolates() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([0.0, 10.0], 25) == 2.5
    assert percentile([5.0], 99) == 5.0
    with pytest.raises(ValueError):
        percentile([], 50)


@pytest.mark.parametrize(("result", "status", "target"), [
    (Result("b", "m", 30, "ms", "base", 100, 0.33), "PASS", "≤ 0.33×"),
    (Result("b", "m", 40, "ms", "base", 100, 0.33), "MISS", "≤ 0.33×"),
    (Result("b", "m", 80, "MiB/s", "put", 100, 0.7, higher_is_better=True), "PASS", "≥ 0.7×"),
    (Result("b", "m", 60, "MiB/s", "put", 100, 0.7, higher_is_better=True), "MISS", "≥ 0.7×"),
    (Result("b", "m", 120, "MiB", limit=100), "MISS", "≤ 100 MiB"),
    (Result("b", "m", 12, "ms", limit=20), "PASS", "≤ 20 ms"),
    (Result("b", "m", 12, "ms", "base", 24), "info", ""),
])
def test_result_status_against_target(result: Result, status: str, target: str) -> None:
    assert result.status == status
    assert result.target_text() == target


def test_ratio_is_ours_over_baseline() -> None:
    assert Result("b", "m", 25, "ms", "base", 100).ratio == 0.25
    assert Result("b", "m", 25, "ms").ratio is None


def test_run_process_reports_the_childs_own_peak_memory() -> None:
    sample = run_process([sys.executable, "-c", "b = bytearray(80 * 1024 * 1024); b[::4096] = b'x' * len(b[::4096])"])
    assert sample.returncode == 0
    assert sample.max_rss >= 80 * MiB
    # Not the parent's memory: a big parent's high-water mark must not leak into the child's figure.
    ballast = bytearray(120 * MiB)
    ballast[::4096] = b"x" * len(ballast[::4096])
    small = run_process([sys.executable, "-S", "-c", "pass"])
    del ballast
    assert small.max_rss < 40 * MiB < sample.max_rss - 40 * MiB


def test_run_process_fails_loudly_with_the_childs_stderr() -> None:
    with pytest.raises(CommandFailed, match="exited 3.*boom"):
        run_process([sys.executable, "-c", "import sys; sys.stderr.write('boom'); sys.exit(3)"])
    assert run_process([sys.executable, "-c", "raise SystemExit(3)"], expect=3).returncode == 3
    with pytest.raises(CommandFailed, match="exited 127"):
        run_process(["/no/such/program"])


def test_interleaved_alternates_and_drops_warmup(tmp_path: Path) -> None:
    log = tmp_path / "order"
    cmd = [sys.executable, "-c", "import sys; open(sys.argv[1], 'a').write(sys.argv[2])", str(log)]
    timings = interleaved({"a": [*cmd, "a"], "b": [*cmd, "b"]}, repeats=3, warmup=1)
    assert log.read_text() == "abababab"
    assert [len(s.runs) for s in timings.values()] == [3, 3]


def test_machine_names_cpus_and_python() -> None:
    info = _harness.machine()
    assert "logical CPUs" in info["CPU"]
    assert info["Python"].startswith("CPython 3.") or "Python" in info["Python"]


def _fake(doc: str, run: object, baselines: dict[str, str] | None = None) -> types.ModuleType:
    module = types.ModuleType("bench_fake", doc)
    module.run = run  # type: ignore[attr-defined]
    module.BASELINES = baselines or {}  # type: ignore[attr-defined]
    return module


def test_a_failing_benchmark_is_recorded_not_fatal() -> None:
    def broken(ctx: _harness.Context) -> list[Result]:
        raise RuntimeError("no registry")

    messages: list[str] = []
    outcome = bench_run.run_one("fake", _fake("Fake benchmark.", broken), True, messages.append)
    assert outcome.error == "RuntimeError: no registry"
    assert outcome.title == "Fake benchmark."
    assert any("no registry" in m for m in messages)


def test_results_file_has_machine_baselines_rows_and_errors() -> None:
    def ok(ctx: _harness.Context) -> list[Result]:
        assert ctx.quick and ctx.workdir.is_dir() and ctx.pick(1000, 10) == 10
        return [Result("fake", "thing per call", 30.5, "ms", "plain", 100, 0.33, note="measured twice")]

    good = bench_run.run_one("fake", _fake("Fake benchmark.", ok), True, lambda m: None)
    bad = bench_run.Outcome("other", "Other.", error="RuntimeError: x")
    good.baselines = {"some-tool": "1.2.3"}  # as if the module had declared (and set-up installed) it
    text = bench_run.render([good, bad], True, __import__("datetime").datetime(2024, 1, 2), 3.0)
    assert "python benchmarks/run.py --quick" in text
    assert "| CPU |" in text and "| Python |" in text
    assert "- some-tool==1.2.3" in text
    assert "| fake | thing per call | 30.50 ms | plain | 100 ms | 0.305 | ≤ 0.33× | PASS |" in text
    assert "| other | (did not run) |" in text and "ERROR: RuntimeError: x" in text
    assert "  - thing per call: measured twice" in text


def test_unknown_benchmark_name_is_refused() -> None:
    with pytest.raises(SystemExit, match="available: .*validate"):
        bench_run.discover(["no-such-benchmark"])


def test_validate_corpus_is_valid_for_our_validator(tmp_path: Path) -> None:
    paths = bench_validate.write_corpus(tmp_path, 3)
    assert len({Path(p).read_text() for p in paths}) == 3
    for path in paths:
        _, report = validate_path(path)
        assert report.ok, [d.format_text() for d in report.diagnostics]


def test_baselines_already_at_their_pin_are_not_reinstalled(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pip(*args: object, **kwargs: object) -> None:
        raise AssertionError("pip should not run")

    monkeypatch.setattr(_baselines.subprocess, "run", no_pip)
    version = _baselines.installed_version("pytest")
    assert version is not None
    assert _baselines.ensure({"pytest": version}, lambda m: None) == {"pytest": version}


def test_a_baseline_that_cannot_be_installed_is_a_setup_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def failing_pip(argv: list[str], **kwargs: object) -> object:
        calls.append(argv)
        return types.SimpleNamespace(returncode=1, stderr="No matching distribution found")

    monkeypatch.setattr(_baselines.subprocess, "run", failing_pip)
    with pytest.raises(_baselines.SetupFailed, match="no-such-tool==9.9.*No matching distribution"):
        _baselines.ensure({"no-such-tool": "9.9"}, lambda m: None)
    assert calls and calls[0][-1] == "no-such-tool==9.9" and calls[0][1:4] == ["-m", "pip", "install"]


def test_samples_summarise_by_median_best_and_peak() -> None:
    samples = _harness.Samples([_harness.Sample(0.3, 0.2, 10, 0), _harness.Sample(0.1, 0.1, 30, 0),
                                _harness.Sample(0.2, 0.4, 20, 0)])
    assert (samples.wall, samples.best, samples.cpu, samples.max_rss) == (0.2, 0.1, 0.2, 30)


@pytest.mark.parametrize(("value", "unit", "text"), [
    (44, "B", "44 B"), (1073741824, "B", "1,073,741,824 B"), (0.2854, "", "0.285"), (81.434, "ms", "81.43 ms"),
    (286.4, "ms", "286 ms"), (None, "ms", ""),
])
def test_table_numbers(value: float | None, unit: str, text: str) -> None:
    assert _harness.fmt(value, unit) == text
