"""`dlhub-manifest run` on the published sklearn example against loading the pickle and calling predict (wall time).

The floor is `python -c` doing only what any caller must: import numpy, unpickle the model, call
`predict_proba` on the same input. Ours runs the servable by reference from the local registry, warm (its
files already fetched into the cache): CLI start-up, registry look-up, input check, and the model's own
subprocess. Environment reuse is `run --isolated` (its environment already built) against a plain `run` of
the static_method example, whose environment needs no packages, so the figure is the reuse cost alone (it can
be negative: the environment's interpreter starts faster than one with many packages installed); the lookup
itself is also timed in-process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from _harness import Context, Result, Samples, compile_package, console_script, interleaved, percentile, time_calls

BASELINES: dict[str, str] = {}
RATIO_TARGET = 1.5
REUSE_TARGET_S = 0.1
X = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
FLOOR = ("import pickle, sys, numpy; m = pickle.load(open(sys.argv[1], 'rb')); "
         "print(m.predict_proba(numpy.asarray({x})).tolist())")


@contextmanager
def _environment(ctx: Context) -> Iterator[Path]:
    """A registry and cache of this run's own, seen by every child process."""
    saved = {k: os.environ.get(k) for k in ("DLHUB_MANIFEST_REGISTRY", "DLHUB_MANIFEST_CACHE_DIR")}
    registry = ctx.workdir / "registry"
    os.environ.update(DLHUB_MANIFEST_REGISTRY=str(registry), DLHUB_MANIFEST_CACHE_DIR=str(ctx.workdir / "cache"))
    try:
        yield registry
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _publish(ours: str, ctx: Context, kind: str) -> None:
    subprocess.run([ours, "publish", str(ctx.repo / "examples" / kind), "--wait", "--no-examples"], check=True,
                   capture_output=True, timeout=600)


def run(ctx: Context) -> list[Result]:
    """Warm `run` against the floor, and isolated-environment reuse against a plain run, interleaved."""
    compile_package("dlhub_manifest")
    ours = console_script("dlhub-manifest")
    data = json.dumps(X)
    with _environment(ctx):
        for kind in ("sklearn", "static_method"):
            _publish(ours, ctx, kind)
        model = str(ctx.repo / "examples" / "sklearn" / "model.pkl")
        repeats = ctx.pick(11, 3)
        ctx.log(f"   sklearn run vs python -c floor ({repeats} interleaved runs each, warm)")
        sk = interleaved({"floor": [sys.executable, "-c", FLOOR.format(x=data), model],
                          "run": [ours, "run", "iris-classifier", "--input", data]}, repeats, warmup=2)
        ctx.log(f"   static_method run vs run --isolated ({repeats} interleaved runs each, environment built)")
        iso = interleaved({"plain": [ours, "run", "polyfit-surrogate", "--input", "[1.0]"],
                           "isolated": [ours, "run", "polyfit-surrogate", "--isolated", "--input", "[1.0]"]},
                          repeats, warmup=2)
        lookup = _lookup_seconds()
    return [*_results(sk, iso), Result("run", "finding the built environment (in-process, median of 200)",
                                       lookup * 1e3, "ms", note="dlhub_manifest.run.env.ensure_environment, warm")]


def _lookup_seconds() -> float:
    """What reuse itself costs: the key, the existence check and the package link, in a warm process."""
    from dlhub_manifest.run.env import ensure_environment

    document = {"dlhub": {"dependencies": {"python": {}}}}
    return percentile(time_calls(lambda: ensure_environment(document), 200), 50)


def _results(sk: dict[str, Samples], iso: dict[str, Samples]) -> list[Result]:
    floor, ours = sk["floor"], sk["run"]
    plain, isolated = iso["plain"], iso["isolated"]
    note = (f"CPU time {ours.cpu * 1e3:,.0f} ms vs {floor.cpu * 1e3:,.0f} ms; fastest runs {ours.best * 1e3:,.0f} ms "
            f"vs {floor.best * 1e3:,.0f} ms (ratio {ours.best / floor.best:.3f})")
    reuse = isolated.wall - plain.wall
    return [
        Result("run", "sklearn example by reference, warm", ours.wall * 1e3, "ms", "python -c unpickle + predict",
               floor.wall * 1e3, RATIO_TARGET, note=note),
        Result("run", "isolated environment reuse (run --isolated minus run)", reuse, "s", limit=REUSE_TARGET_S,
               note=f"static_method example: {isolated.wall * 1e3:,.0f} ms isolated vs {plain.wall * 1e3:,.0f} ms "
                    f"plain (fastest {isolated.best * 1e3:,.0f} vs {plain.best * 1e3:,.0f} ms)"),
    ]
