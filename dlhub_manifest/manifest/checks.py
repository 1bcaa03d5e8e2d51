"""Semantic checks that JSON Schema cannot express: ORCID check digits, DOI syntax, SPDX, names."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from dlhub_manifest.util.resources import spdx_identifiers

_DOI = re.compile(r"^10\.[0-9]{4,9}/\S+$")  # [0-9], not \d: Python's \d matches any script's digits
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi:")
_ORCID = re.compile(r"^(?:https://orcid\.org/)?([0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X])$")
_SPDX_TOKEN = re.compile(r"\(|\)|[^\s()]+")
_SPDX_OPERATORS = {"AND", "OR", "WITH"}


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to a misspelt `word`, if one is close enough to be a likely typo."""
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    match = difflib.get_close_matches(word, options, n=1, cutoff=0.7)
    if not match:
        folded = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.7)
        match = [lowered[folded[0]]] if folded else []
    return match[0] if match else None


def bare_orcid(value: str) -> str | None:
    """The 16-character ORCID in `value` (URL form accepted), or None if it is not shaped like one."""
    m = _ORCID.match(value.strip())
    return m.group(1) if m else None


def orcid_checksum_ok(orcid: str) -> bool:
    """ISO 7064 MOD 11-2 check digit, as ORCID defines it."""
    digits = orcid.replace("-", "")
    total = 0
    for ch in digits[:-1]:
        total = (total + int(ch)) * 2
    result = (12 - total % 11) % 11
    expected = "X" if result == 10 else str(result)
    return digits[-1] == expected


def doi_problem(value: str) -> tuple[str, str] | None:
    """Why `value` is not a bare DOI (message, hint), or None when it is one."""
    for prefix in _DOI_PREFIXES:
        if value.lower().startswith(prefix):
            bare = value[len(prefix):]
            return f"{value!r} is a DOI link, not a DOI", f"write the bare DOI: {bare}"
    if not _DOI.match(value):
        return f"{value!r} is not a DOI", "a DOI looks like 10.1000/xyz123 (prefix 10.NNNN, a slash, a suffix)"
    return None


def spdx_problem(expression: str) -> tuple[str, str | None] | None:
    """Why `expression` is not a valid SPDX license expression, or None when it is."""
    known = spdx_identifiers()
    tokens = _SPDX_TOKEN.findall(expression)
    if not tokens:
        return "license is empty", "use an SPDX identifier such as MIT or Apache-2.0"
    if len(tokens) > 1 and not any(t in ("(", ")") or t.upper() in _SPDX_OPERATORS for t in tokens):
        guess = suggest("-".join(tokens), known)
        hint = f"did you mean {guess!r}?" if guess else "SPDX identifiers have no spaces, e.g. Apache-2.0"
        return f"{expression!r} is not an SPDX license identifier", hint
    return _spdx_sequence_problem(expression, tokens, known)


def _spdx_sequence_problem(expression: str, tokens: list[str], known: frozenset[str]) -> tuple[str, str | None] | None:
    """Walk the tokens of an SPDX expression: identifiers, operators and balanced parentheses in order."""
    expect_id = True
    depth = 0
    for token in tokens:
        if token == "(":
            depth += 1
            continue
        if token == ")":
            depth -= 1
            if depth < 0:
                return f"unbalanced ')' in license expression {expression!r}", None
            continue
        if token.upper() in _SPDX_OPERATORS and not expect_id:
            expect_id = True
            continue
        if not expect_id:
            return f"missing AND/OR/WITH before {token!r} in license expression", None
        expect_id = False
        ident = token[:-1] if token.endswith("+") else token
        if ident in known or ident.startswith("LicenseRef-"):
            continue
        guess = suggest(ident, known)
        hint = f"did you mean {guess!r}?" if guess else "see https://spdx.org/licenses/ for identifiers"
        return f"{ident!r} is not an SPDX license identifier", hint
    if depth:
        return f"unbalanced '(' in license expression {expression!r}", None
    if expect_id:
        return f"license expression {expression!r} ends with an operator", None
    return None


def split_name(name: str) -> tuple[str, str] | None:
    """Split "Family, Given" into (family, given); None when the form is not that."""
    parts = [p.strip() for p in name.split(",")]
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]
