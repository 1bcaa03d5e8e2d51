"""BibTeX: one `@software` entry (biblatex's type, which GitHub's "Cite this repository" also writes).

No library writes BibTeX from structured data without pulling in a parser's object model, so this is written by
hand: LaTeX's special characters are escaped and braces always balance.
"""

from __future__ import annotations

import re

from dlhub_manifest.citation.common import DOI_URL, Lost
from dlhub_manifest.citation.facts import Facts

_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
            "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_SPECIAL_RE = re.compile(r"[\\{}&%$#_~^]")


def escape(text: str) -> str:
    """`text` with LaTeX's special characters escaped, on one line."""
    return _SPECIAL_RE.sub(lambda m: _SPECIAL[m.group(0)], " ".join(text.split()))


def key(facts: Facts) -> str:
    """A citation key: the servable's name (else its title), then the year when known."""
    base = re.sub(r"[^A-Za-z0-9]+", "_", facts.name or facts.title).strip("_") or "servable"
    return f"{base}_{facts.year}" if facts.year else base


def render(facts: Facts, lost: Lost) -> str:
    """The BibTeX entry for `facts`; what BibTeX cannot hold is noted in `lost`."""
    fields = [("author", " and ".join(escape(p.display) for p in facts.creators)), ("title", "{" + escape(facts.title)
                                                                                    + "}")]
    for name, value in (("year", str(facts.year) if facts.year else None), ("date", facts.date),
                        ("version", facts.version), ("doi", facts.doi),
                        ("url", facts.url or (DOI_URL + facts.doi if facts.doi else facts.repository)),
                        ("abstract", facts.description), ("keywords", ", ".join(facts.subjects) or None),
                        ("license", facts.license)):
        if value:
            fields.append((name, value if name in ("url", "doi") else escape(value)))
    _note_lost(facts, lost)
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@software{{{key(facts)},\n{body}\n}}\n"


def _note_lost(facts: Facts, lost: Lost) -> None:
    if any(p.orcid or p.affiliations for p in facts.creators):
        lost.add("creators: BibTeX holds names only (no ORCID iDs or affiliations)")
    if facts.related:
        lost.add("related: BibTeX has no field for related identifiers")
    if facts.funding:
        lost.add("funding: BibTeX has no field for funding")
    if facts.commit:
        lost.add("commit: BibTeX has no field for the commit")
    if facts.domains:
        lost.add("domains: BibTeX has no domains; they are written as keywords")
