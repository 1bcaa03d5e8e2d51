"""Run a probe on a user's model in a subprocess with a timeout: loading a model runs its code (pickle).

Parent side: `run_probe(name, args, project, timeout)` returns the probe's JSON result or raises `ProbeFailed`.
The child also reports every file it read, so an unchanged model's result can be remembered (`cache.py`).
Child side (`python -m dlhub_manifest.build.inspect.runner`): reads `{"probe", "args", "project"}` on stdin,
runs the probe with the project first on `sys.path`, and writes `{"ok": ..., ...}` on the real stdout; anything
the user's code prints goes to stderr so it cannot corrupt the answer. A dict result also gets `_modules`: the
project files of the modules the probe imported (they must ship with the servable).

`dlhub-manifest run` uses the same machinery (probe `invoke`), optionally with another interpreter (an isolated
virtual environment, see `Interpreter`).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlhub_manifest.build.inspect import confine
from dlhub_manifest.errors import DLHubManifestError
from dlhub_manifest.util.logsafe import redact

DEFAULT_TIMEOUT = 60.0
PROBES: dict[str, str] = {  # probe name -> "module:function", imported only in the child
    "sklearn": "dlhub_manifest.build.inspect.sklearn:probe",
    "static_method": "dlhub_manifest.build.inspect.static_method:probe",
    "class_method": "dlhub_manifest.build.inspect.class_method:probe",
    "pytorch": "dlhub_manifest.build.inspect.pytorch:probe",
    "keras": "dlhub_manifest.build.inspect.keras:probe",
    "invoke": "dlhub_manifest.run.invoke:probe",
}
MODULES_KEY = "_modules"
UNRECORDED = frozenset({"invoke"})  # probes whose reads and imports nobody needs (a run is not remembered)
_STDERR_TAIL = 1500
_POLL = 0.1  # seconds between checks that the child is still running
# Environment variables the model's code has no business reading (it may come from someone else's repository).
_SECRET_NAME = confine.SECRET_NAME


@dataclass(frozen=True)
class Interpreter:
    """Another Python to run the probe with: its executable, and the only folder put on its `PYTHONPATH`
    (one that makes dlhub-manifest importable without exposing the packages installed beside it)."""

    executable: str
    path: str


class ProbeFailed(DLHubManifestError):
    """The probe could not finish; `missing` names a module that was not installed, when that is why."""

    def __init__(self, message: str, missing: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.missing = missing


def run_probe(name: str, args: dict[str, Any], project: Path, timeout: float = DEFAULT_TIMEOUT, *,
              cache: bool = False, interpreter: Interpreter | None = None) -> dict[str, Any]:
    """Run probe `name` on `args` in a fresh interpreter whose working directory is `project`.

    With `cache`, a result remembered from an earlier run whose inputs are all unchanged is returned instead
    (see `cache.py`); only successful results are remembered. `interpreter`: run it with another Python.
    """
    from dlhub_manifest.build.inspect import cache as memo
    from dlhub_manifest.package.hashcache import caching_enabled

    env = _child_env(interpreter)
    entry = memo.entry_path(name, args, project, env) if cache and caching_enabled() and not interpreter else None
    if entry is not None and (known := memo.lookup(entry, project)) is not None:
        return known
    started = time.time_ns()
    answer = _run(name, args, project, timeout, env, interpreter.executable if interpreter else sys.executable)
    result: dict[str, Any] = answer.get("result", {})
    if entry is not None and isinstance(answer.get("reads"), dict):
        memo.remember(entry, project, result, answer["reads"], started)
    return result


def _run(name: str, args: dict[str, Any], project: Path, timeout: float, env: dict[str, str],
         python: str) -> dict[str, Any]:
    """Run the child; when it ends (or its time is up), kill its group and any process it let escape."""
    request = json.dumps({"probe": name, "args": args, "project": str(project)})
    cmd = [python, "-m", "dlhub_manifest.build.inspect.runner"]
    confine.prepare_parent()
    before = confine.children()
    proc = subprocess.Popen(cmd, cwd=project, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        out, err = _collect(proc, request.encode("utf-8"), deadline, before)
    finally:
        _kill_group(proc, before)
    if out is None:
        what = "the servable" if name == "invoke" else "inspection"
        raise ProbeFailed(f"{what} did not finish within {timeout:g} s")
    return _answer(out, err, proc.returncode)


def _collect(proc: subprocess.Popen[bytes], request: bytes, deadline: float, before: set[int]
             ) -> tuple[bytes | None, bytes]:
    """The child's stdout and stderr once it exits (None when the deadline passes first).

    A process the child left behind may hold the pipes open: once the child itself has exited, those are
    killed so the pipes close, rather than waiting for them until the deadline.
    """
    data: bytes | None = request
    while True:
        try:
            out, err = proc.communicate(data, timeout=min(_POLL, max(deadline - time.monotonic(), 0.01)))
            return out, err
        except subprocess.TimeoutExpired:
            data = None
            if proc.poll() is not None:  # the child is done: whatever still holds its pipes is an escapee
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                confine.kill_escapees(before | {proc.pid})
            if time.monotonic() >= deadline:
                return None, b""


def _child_env(interpreter: Interpreter | None = None) -> dict[str, str]:
    """Our package importable, no secrets, no bytecode written into the project, no cwd shadowing the stdlib.

    Another interpreter sees only its own packages and `interpreter.path` (no user site, no PYTHONPATH of ours).
    """
    env = {k: v for k, v in os.environ.items() if not _SECRET_NAME.search(k)}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONSAFEPATH"] = "1"
    if interpreter is not None:
        env.update(PYTHONPATH=interpreter.path, PYTHONNOUSERSITE="1")
        env.pop("PYTHONHOME", None)
        return env
    package_root = str(Path(__file__).resolve().parents[3])
    if package_root not in _site_dirs():  # a source checkout: site-packages must not go before the stdlib
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    return env


def _site_dirs() -> set[str]:
    import site

    return {str(Path(d).resolve()) for d in [*site.getsitepackages(), site.getusersitepackages()]}


def _kill_group(proc: subprocess.Popen[bytes], before: set[int]) -> None:
    """Kill the probe's group (its own session) and the processes that left it, then reap the probe."""
    with contextlib.suppress(ProcessLookupError, PermissionError, AttributeError):
        os.killpg(proc.pid, signal.SIGKILL)
    confine.kill_escapees(before | {proc.pid})
    if proc.poll() is None:
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired, ValueError, OSError):
        proc.communicate(timeout=5)  # reap it and drain its pipes (no one else holds them now)
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def _answer(out: bytes, err: bytes, returncode: int) -> dict[str, Any]:
    try:
        answer = json.loads(out.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        tail = err.decode("utf-8", errors="replace").strip()[-_STDERR_TAIL:]
        raise ProbeFailed(redact(f"the inspection process exited with status {returncode} without an answer"
                                 + (f": {tail}" if tail else ""))) from None
    if not isinstance(answer, dict):
        raise ProbeFailed("the inspection process gave an unexpected answer")
    if not answer.get("ok"):
        raise ProbeFailed(redact(str(answer.get("error", "unknown error"))), answer.get("missing"))
    return answer


def _describe(e: BaseException) -> dict[str, Any]:
    """The failure as JSON; a missing module is named so the builder can say which extra to install."""
    answer: dict[str, Any] = {"ok": False, "error": f"{type(e).__name__}: {e}"[:2000]}
    if isinstance(e, ModuleNotFoundError) and e.name:
        answer["missing"] = e.name
    return answer


def _child(request: dict[str, Any]) -> dict[str, Any]:
    from dlhub_manifest.build.inspect.reads import ReadRecorder

    project = str(request["project"])
    sys.path.insert(0, project)
    os.chdir(project)
    module, _, attr = PROBES[request["probe"]].partition(":")
    if request["probe"] in UNRECORDED:
        return {"ok": True, "result": getattr(importlib.import_module(module), attr)(request["args"])}
    recorder = ReadRecorder()
    recorder.install()
    probe = getattr(importlib.import_module(module), attr)
    before = set(sys.modules)
    result = probe(request["args"])
    if isinstance(result, dict):
        result[MODULES_KEY] = project_modules(project, set(sys.modules) - before)
    return {"ok": True, "result": result, "reads": recorder.report()}


def project_modules(project: str, names: set[str]) -> list[str]:
    """Project-relative posix paths of the modules `names` that were loaded from files inside `project`.

    Installed packages that happen to live in the project (a `.venv`, `site-packages`) are not the project's.
    """
    root = os.path.join(os.path.realpath(project), "")
    found = set()
    for name in names:
        file = getattr(sys.modules.get(name), "__file__", None)
        if not isinstance(file, str) or not os.path.isabs(file):  # torch's `_ops` module says `_ops.py`
            continue
        real = os.path.realpath(file)
        rel = real[len(root):].replace(os.sep, "/") if real.startswith(root) else ""
        parts = rel.split("/")
        if rel and "site-packages" not in parts and not any(p.startswith(".") for p in parts[:-1]):
            found.add(rel)
    return sorted(found)


def main() -> int:
    """Child entry point: answer on the original stdout, whatever the user's code prints or raises."""
    request = json.loads(sys.stdin.read())
    sys.stdout.flush()
    answer_fd = os.dup(1)
    os.dup2(2, 1)  # stray prints from user code (Python or C level) now go to stderr
    try:
        answer = _child(request)
    except BaseException as e:  # noqa: BLE001 - every failure, even SystemExit from user code, is reported
        answer = _describe(e)
    sys.stdout.flush()
    with os.fdopen(answer_fd, "w", encoding="utf-8") as fh:
        json.dump(answer, fh, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
