"""`dlhub-manifest validate` against check-jsonschema with our schema on the same files (wall time).

Like with like: check-jsonschema checks the schema only, so ours runs with `--no-files` for the targets;
ours with its file checks is reported as an extra line. Both are launched through their console scripts.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _harness import Context, Result, Samples, compile_package, console_script, interleaved

BASELINES = {"check-jsonschema": "0.39.0"}
ONE_FILE_TARGET = 0.33
MANY_FILES_TARGET = 0.5

# A manifest that uses most of the schema (creators with ORCID, related DOI, SPDX, type options).
MANIFEST = """\
manifest_version: 1
name: {name}
title: Iris species classifier
description: Logistic regression trained on the iris data set.
version: 1.2.0
creators:
  - name: "Ward, Logan"
    orcid: 0000-0002-1825-0097
    affiliations: [Argonne National Laboratory]
  - "Blaiszik, Ben"
license: MIT
related:
  - identifier: 10.1000/xyz123
    type: DOI
    relation: IsDescribedBy
domains: [materials science]
keywords: [classification, iris]
visible_to: [public]
servable:
  type: sklearn
  options:
    model: model.pkl
    serialization: pickle
    n_input_columns: 4
    classes: [setosa, versicolor, virginica]
files: [model.pkl]
dependencies:
  python: {{scikit-learn: "1.5.0"}}
"""


def write_corpus(folder: Path, count: int) -> list[str]:
    """`count` valid manifests (distinct names), each in its own project folder beside the model file it names.

    One project per folder, as in real use: the file checks glob the project folder, so 1,000 manifests
    sharing one folder would each scan the other 999.
    """
    paths = []
    for i in range(count):
        project = folder / f"p{i:04d}"
        project.mkdir(parents=True)
        (project / "model.pkl").write_bytes(b"not really a pickle: validate only checks that it exists")
        path = project / "dlhub.yaml"
        path.write_text(MANIFEST.format(name=f"iris-{i:04d}"), encoding="utf-8")
        paths.append(str(path))
    return paths


def _commands(ctx: Context, files: list[str]) -> dict[str, list[str]]:
    schema = str(ctx.repo / "schemas" / "dlhub-manifest.v1.schema.json")
    ours = console_script("dlhub-manifest")
    return {
        "ours": [ours, "validate", "--no-files", *files],
        "ours_files": [ours, "validate", *files],
        "check_jsonschema": [console_script("check-jsonschema"), "--schemafile", schema, *files],
    }


def _results(label: str, timings: dict[str, Samples], target: float) -> list[Result]:
    base = timings["check_jsonschema"]
    ours, with_files = timings["ours"], timings["ours_files"]
    cpu = (f"CPU time {ours.cpu * 1e3:,.0f} ms vs {base.cpu * 1e3:,.0f} ms (ratio {ours.cpu / base.cpu:.3f}); "
           f"fastest runs {ours.best * 1e3:,.0f} ms vs {base.best * 1e3:,.0f} ms (ratio {ours.best / base.best:.3f})")
    return [
        Result("validate", f"{label}, schema only (--no-files)", ours.wall * 1e3, "ms", "check-jsonschema",
               base.wall * 1e3, target, note=cpu),
        Result("validate", f"{label}, with file checks (extra)", with_files.wall * 1e3, "ms", "check-jsonschema",
               base.wall * 1e3),
    ]


def run(ctx: Context) -> list[Result]:
    """Whole-process time for one manifest, and for 1,000 manifests in one call."""
    compile_package("dlhub_manifest")
    count = ctx.pick(1000, 1000)
    files = write_corpus(ctx.workdir / "corpus", count)
    ctx.log(f"   one file, whole process ({ctx.pick(21, 7)} interleaved runs each)")
    one = _commands(ctx, files[:1])
    one["python -c pass"] = [sys.executable, "-c", "pass"]
    single = interleaved(one, ctx.pick(21, 7), warmup=2)
    ctx.log(f"   {count} files in one call ({ctx.pick(5, 2)} interleaved runs each)")
    many = interleaved(_commands(ctx, files), ctx.pick(5, 2))
    floor = single["python -c pass"].wall * 1e3
    results = _results("1 file, whole process", single, ONE_FILE_TARGET)
    results.append(Result("validate", "interpreter start-up floor (python -c pass)", floor, "ms",
                          note="what any Python CLI pays before its first import, measured in the same rounds"))
    return results + _results(f"{count:,} files in one call", many, MANY_FILES_TARGET)
