"""The web pages' building blocks: safe Markdown, citations, provenance links, version diffs, sessions."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from web_support import base_document

from dlhub_manifest.errors import UsageError
from dlhub_manifest.server.web.citation import citation_text
from dlhub_manifest.server.web.diff import flatten, version_diff
from dlhub_manifest.server.web.markdown import first_line_text, render_markdown, safe_url
from dlhub_manifest.server.web.provenance import provenance_view, repository_link
from dlhub_manifest.server.web.session import Sessions, csrf_ok
from dlhub_manifest.server.web.view import type_text


@pytest.mark.parametrize(("url", "ok"), [
    ("https://example.org/x", True), ("HTTP://example.org", True), ("mailto:a@b.org", True),
    ("javascript:alert(1)", False), (" JavaScript:alert(1)", False), ("data:text/html,x", False),
    ("vbscript:x", False), ("/relative", False), ("https://exa\nmple.org", False), ("file:///etc/passwd", False),
])
def test_only_http_https_and_mailto_become_links(url: str, ok: bool) -> None:
    assert safe_url(url) is ok
    rendered = render_markdown(f"[x]({url.strip()})")
    assert ("<a href=" in rendered) is ok


def test_markdown_keeps_raw_html_as_text_and_demotes_headings() -> None:
    html = render_markdown("# Title\n\n<b onmouseover=alert(1)>hi</b>\n\n**bold** `code`")
    assert html == ("<h3>Title</h3>\n<p>&lt;b onmouseover=alert(1)&gt;hi&lt;/b&gt;</p>\n"
                    "<p><strong>bold</strong> <code>code</code></p>\n")
    assert first_line_text("# Multiplies **every** element\n\nmore") == "Multiplies every element"
    assert first_line_text("x " * 300).endswith("…") and len(first_line_text("x " * 300)) == 200


def _published(doc: dict[str, Any], version: str = "1.0.0") -> dict[str, Any]:
    """A published version as `get_servable` answers it, around `doc`."""
    return {"servable": "alice/scaler_v2.0", "owner": "alice", "name": "scaler_v2.0", "version": version,
            "latest": version, "versions": [version], "published_at": 1767225600.0, "document": doc,
            "files": [], "content_digest": "0" * 64, "task_id": "t",
            "provenance": {"repository": "https://github.com/alice/scaler", "commit": "a" * 40}}


def test_citation_bibtex_escapes_latex_and_carries_the_published_version() -> None:
    import bibtexparser

    doc = base_document()
    doc["datacite"]["titles"] = [{"title": "50% {better} models_v2 & more"}]
    doc["datacite"]["identifier"] = {"identifier": "10.5555/abc", "identifierType": "DOI"}
    text = citation_text(_published(doc), "bibtex", "http://registry.example/s/alice/scaler_v2.0@1.0.0")
    entry = bibtexparser.parse_string(text).entries[0]
    assert entry.entry_type == "software"
    assert entry["title"] == "{50\\% \\{better\\} models\\_v2 \\& more}"
    assert entry["author"] == "Ward, Logan and Blaiszik, Ben and Foster, Ian"
    assert entry["doi"] == "10.5555/abc" and entry["version"] == "1.0.0" and entry["date"] == "2026-01-01"
    assert entry["url"] == "http://registry.example/s/alice/scaler_v2.0@1.0.0"


def test_citation_cff_is_yaml_with_authors_orcid_and_no_placeholder_doi() -> None:
    doc = base_document()
    doc["datacite"]["titles"] = [{"title": 'A "quoted": title\nwith a break'}]
    cff = yaml.safe_load(citation_text(_published(doc, "2.0.0"), "cff"))
    assert cff["cff-version"] == "1.2.0" and " ".join(cff["title"].split()) == 'A "quoted": title with a break'
    assert cff["authors"][0]["family-names"] == "Ward" and cff["authors"][0]["given-names"] == "Logan"
    assert cff["authors"][0]["orcid"] == "https://orcid.org/0000-0002-1825-0097"
    assert cff["version"] == "2.0.0" and cff["commit"] == "a" * 40
    assert "doi" not in cff  # the builder's placeholder identifier is not a DOI to cite
    assert set(cff["keywords"]) >= {"scaling", "example"}
    with pytest.raises(UsageError, match="unknown citation format 'ris'; use one of: bibtex, cff"):
        citation_text(_published(doc), "ris")


@pytest.mark.parametrize(("remote", "link"), [
    ("https://github.com/o/r.git", "https://github.com/o/r"),
    ("git@github.com:o/r.git", "https://github.com/o/r"),
    ("https://user:secret@github.com/o/r", ""),  # credentials never become a link
    ("http://example.org/r", ""), ("javascript:alert(1)", ""), ("/srv/git/r", ""),
])
def test_repository_links_are_https_without_credentials(remote: str, link: str) -> None:
    assert repository_link(remote) == link


def test_provenance_links_commit_and_tag_on_known_hosts_only() -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    github = provenance_view({"repository": "https://github.com/o/r.git", "commit": sha, "ref": "v1.0.0"})
    assert github["commit_url"] == f"https://github.com/o/r/commit/{sha}"
    assert github["ref_url"] == "https://github.com/o/r/tree/v1.0.0"
    other = provenance_view({"repository": "https://git.example.org/o/r", "commit": sha})
    assert other["repository_url"] == "https://git.example.org/o/r" and other["commit_url"] == ""
    assert provenance_view({"repository": "https://github.com/o/r", "commit": "<b>"})["commit_url"] == ""
    assert provenance_view(None)["repository"] == ""


def test_type_text_describes_shapes_items_and_tuples() -> None:
    assert type_text({"type": "ndarray", "shape": [None, 4], "item_type": {"type": "float"}}) == \
        "ndarray of float, shape (None, 4)"
    assert type_text({"type": "ndarray", "shape": [None]}) == "ndarray, shape (None,)"
    assert type_text({"type": "tuple", "element_types": [{"type": "int"}, {"type": "string"}]}) == \
        "tuple (int, string)"
    assert type_text("not a spec") == ""


def test_version_diff_compares_content_not_registry_fields() -> None:
    old = {"document": base_document(), "files": [{"path": "a.py", "sha256": "1" * 64, "size": 10},
                                                  {"path": "b.py", "sha256": "2" * 64, "size": 20}]}
    new = copy.deepcopy(old)
    new["document"]["dlhub"]["version"] = "9.9.9"  # filled by the registry: not a change
    new["document"]["provenance"] = {"commit": "f" * 40}  # describes the publication: not a change
    new["document"]["datacite"]["titles"] = [{"title": "Scale it"}]
    new["files"] = [{"path": "a.py", "sha256": "3" * 64, "size": 2048}, {"path": "c.py", "sha256": "4" * 64,
                                                                         "size": 1}]
    diff = version_diff(old, new)
    assert diff.fields == [("datacite.titles[0].title", '"Scale a vector"', '"Scale it"')]
    assert diff.added == [("c.py", "1 B")] and diff.removed == [("b.py", "20 B")]
    assert diff.changed == [("a.py", "10 B", "2.0 KiB")] and diff.unchanged_files == 0
    assert version_diff(old, copy.deepcopy(old)).empty
    assert flatten({"a": {"b": [1, {"c": None}]}, "d": []}) == {"a.b[0]": "1", "a.b[1].c": "null", "d": "[]"}


def test_sessions_expire_are_dropped_and_never_store_the_id() -> None:
    now = [1000.0]
    sessions = Sessions(lifetime=60, clock=lambda: now[0])
    sid = sessions.create("token-abcdefghijklmnop")
    assert sessions.token(sid) == "token-abcdefghijklmnop" and sessions.token("guess") is None
    assert sid not in sessions._entries  # kept under a hash of the id
    now[0] += 61
    assert sessions.token(sid) is None
    other = sessions.create("token-abcdefghijklmnop")
    sessions.drop(other)
    assert sessions.token(other) is None and sessions.token(None) is None


def test_csrf_tokens_must_be_present_and_equal() -> None:
    assert csrf_ok("abc", "abc")
    assert not csrf_ok("abc", "abd") and not csrf_ok(None, "abc") and not csrf_ok("abc", None)
    assert not csrf_ok("", "")
