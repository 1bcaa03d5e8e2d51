"""Where a version came from, as links: the repository (https only, no credentials) and its commit or tag."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

# Hosts whose web UI shows a commit and a tag or branch at a known path below the repository's URL.
COMMIT_PATHS = {"github.com": "/commit/", "gitlab.com": "/-/commit/", "bitbucket.org": "/commits/"}
TREE_PATHS = {"github.com": "/tree/", "gitlab.com": "/-/tree/", "bitbucket.org": "/src/"}
_SHA = re.compile(r"^[0-9a-f]{7,64}$")


def repository_link(url: str) -> str:
    """A browsable https URL for a repository remote (`git@host:o/r.git` too), or "" when there is none."""
    if url.startswith("git@") and ":" in url:
        host, _, path = url[4:].partition(":")
        url = f"https://{host}/{path}"
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        return ""
    return f"https://{parts.hostname}{parts.path.removesuffix('.git')}"


def provenance_view(provenance: Any) -> dict[str, str]:
    """Repository, commit, ref and tool, each with a link where one can be made safely."""
    p = provenance if isinstance(provenance, dict) else {}
    repo = str(p.get("repository") or "")
    link = repository_link(repo)
    commit, ref = str(p.get("commit") or ""), str(p.get("ref") or "")
    host = urlsplit(link).hostname or ""
    commit_url = f"{link}{COMMIT_PATHS[host]}{commit}" if link and host in COMMIT_PATHS and _SHA.match(commit) else ""
    ref_url = f"{link}{TREE_PATHS[host]}{quote(ref, safe='')}" if link and host in TREE_PATHS and ref else ""
    return {"repository": repo, "repository_url": link, "commit": commit, "commit_url": commit_url, "ref": ref,
            "ref_url": ref_url, "tool": str(p.get("tool") or "")}
