"""The worker's fetch of one pinned commit: shallow, pinned to the checked address, bounded in time and size.

git runs in its own session with no terminal, no askpass, no proxy and (for hosts not on the allowlist) no
credential helper; it is killed with everything it started when the time limit passes or the fetched objects
grow past the size limit. The files a commit would check out are summed before checkout, so a small pack of
highly compressible data cannot fill the disk either.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from dlhub_manifest.repository.checkout import GitRepoError
from dlhub_manifest.repository.policy import FetchPolicy, Target
from dlhub_manifest.util.humanize import human_size
from dlhub_manifest.util.logsafe import redact

POLL_SECONDS = 0.2
_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
               "NO_PROXY", "GIT_PROXY_COMMAND", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS", "SSH_ASKPASS")


class FetchFailed(GitRepoError):
    """The commit could not be fetched within the policy's limits; the message says which limit or why."""


@dataclass(frozen=True)
class _Run:
    """One fetch's settings, shared by its git commands."""

    target: Target
    policy: FetchPolicy
    env: dict[str, str]
    limit: float
    deadline: float


def fetch_commit(target: Target, commit: str, dest: Path, policy: FetchPolicy, *, timeout: float | None = None
                 ) -> Path:
    """Fetch exactly `commit` (depth 1) from `target` into new folder `dest` and check it out, detached.

    `timeout`: the time the task has left, when that is shorter than the policy's limit.
    """
    limit = max(policy.timeout if timeout is None else min(timeout, policy.timeout), 0.0)
    run = _Run(target, policy, _env(target, policy), limit, time.monotonic() + limit)
    dest.mkdir(parents=True)
    _git(run, ["init", "-q", "."], dest)
    config = [arg for item in target.git_config for arg in ("-c", item)]
    _git(run, [*config, "fetch", "--quiet", "--no-tags", "--depth", "1", "--no-recurse-submodules", "--",
               target.url, commit], dest, watch=dest / ".git")
    _check_tree_size(run, dest, commit)
    _git(run, ["checkout", "--quiet", "--detach", commit], dest)
    return dest


def _env(target: Target, policy: FetchPolicy) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _PROXY_VARS}
    env.update(GIT_TERMINAL_PROMPT="0", GCM_INTERACTIVE="never", LC_ALL="C")
    if not policy.trusted:
        env["GIT_ALLOW_PROTOCOL"] = "https:http:ssh"
        env["GIT_PROTOCOL_FROM_USER"] = "0"
    if target.scheme == "ssh" and policy.ssh_key:
        env["GIT_SSH_COMMAND"] = (f"ssh -i '{policy.ssh_key}' -o IdentitiesOnly=yes -o BatchMode=yes "
                                  f"-o StrictHostKeyChecking=yes -o HostKeyAlias={target.host} "
                                  f"-o ConnectTimeout={max(int(policy.timeout), 1)}")
    return env


def _git(run: _Run, args: list[str], cwd: Path, *, watch: Path | None = None) -> str:
    """Run git; FetchFailed when it fails, runs past the deadline or (with `watch`) grows past the size limit."""
    proc = subprocess.Popen(["git", *args], cwd=cwd, env=run.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        while proc.poll() is None:
            if time.monotonic() > run.deadline:
                raise FetchFailed(f"fetching {run.target.shown} did not finish within {run.limit:.0f} s (this "
                                  "registry's time limit); the host did not answer in time")
            if watch is not None and _size(watch) > run.policy.max_bytes:
                raise FetchFailed(f"{run.target.shown} is larger than this registry's limit of "
                                  f"{human_size(run.policy.max_bytes)} for a repository")
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(POLL_SECONDS)
        out, err = proc.communicate()
    finally:
        _kill(proc)
    if proc.returncode != 0:
        raise FetchFailed(f"cannot fetch the commit from {run.target.shown}: {_reason(err)}; check that the commit "
                          "was pushed and the repository can be read without a password")
    return out.decode("utf-8", errors="replace")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=5)


def _check_tree_size(run: _Run, dest: Path, commit: str) -> None:
    listing = _git(run, ["ls-tree", "-r", "-l", "-z", commit], dest)
    total = 0
    for record in filter(None, listing.split("\0")):
        size = record.split("\t", 1)[0].split()[-1]
        total += int(size) if size.isdigit() else 0
    if total > run.policy.max_bytes:
        raise FetchFailed(f"commit {commit[:12]} of {run.target.shown} holds {human_size(total)} of files, over "
                          f"this registry's limit of {human_size(run.policy.max_bytes)} for a repository")


def _size(folder: Path) -> int:
    total = 0
    for base, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(base, name)).st_size
    return total


def _reason(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", errors="replace").splitlines() if ln.strip()]
    return redact(lines[-1] if lines else "git failed")[:300]
