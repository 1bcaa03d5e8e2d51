"""`list` and `search` over the catalog: one SQL query each, visibility decided in SQL.

Search keeps its meaning (every word of the query, lower-cased, must occur somewhere in the searchable text,
inside a word too) and ranks by where the words occur: a title hit outranks a name hit, which outranks a
keyword hit, and so on down to the description; equal scores sort by OWNER/NAME. Words of three characters
or more go to the FTS5 trigram index; shorter ones (and every word when the index is absent) are checked with
`instr` on the candidates.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dlhub_manifest.registry.catalog import FTS_TABLE, has_fts
from dlhub_manifest.registry.contracts import ServableSummary

# Points for a word found in a field (the best field counts); a result's score is the sum over its words.
WEIGHTS = {"title": 6, "name": 5, "keywords": 4, "domains": 3, "creators": 2, "identifiers": 2, "description": 1}
TRIGRAM = 3  # the trigram index cannot find shorter words
SEARCH_LIMIT = 50  # results of a search unless the caller asks for more
MAX_LIMIT = 10_000  # the most a list page or a search returns at once


@dataclass(frozen=True)
class Viewer:
    """Who reads: they see public servables, their own, and those shared with one of their principals."""

    username: str
    principals: tuple[str, ...]

    def sql(self) -> tuple[str, list[Any]]:
        """The visibility condition on catalog row `c`, with its parameters."""
        marks = ", ".join("?" * len(self.principals)) or "NULL"
        return (f"(c.public = 1 OR c.owner = ? OR EXISTS (SELECT 1 FROM catalog_access a WHERE a.servable_id = "
                f"c.servable_id AND a.principal IN ({marks})))", [self.username, *self.principals])


@dataclass(frozen=True)
class Listing:
    """Servable summaries as the catalog stores them (JSON text each): parsed for Python callers, passed
    through untouched to HTTP ones."""

    texts: list[str]
    next: str | None = None

    def items(self) -> list[ServableSummary]:
        """The summaries as dicts."""
        return [json.loads(t) for t in self.texts]

    def json_array(self) -> str:
        """The summaries as one JSON array (text)."""
        return "[" + ",".join(self.texts) + "]"


def list_page(conn: sqlite3.Connection, viewer: Viewer, limit: int | None,
              after: tuple[str, str] | None) -> Listing:
    """Visible servables by OWNER/NAME after `after` (owner, name), at most `limit` (None: all); `next` names
    the last one returned when more follow."""
    visible, params = viewer.sql()
    where = [visible]
    if after is not None:
        where.append("(c.owner, c.name) > (?, ?)")
        params += after
    sql = (f"SELECT c.summary, c.owner || '/' || c.name FROM catalog c WHERE {' AND '.join(where)} "
           "ORDER BY c.owner, c.name LIMIT ?")
    rows = conn.execute(sql, [*params, -1 if limit is None else limit + 1]).fetchall()  # one more: is there a next?
    if limit is None or len(rows) <= limit:
        return Listing([r[0] for r in rows])
    return Listing([r[0] for r in rows[:limit]], rows[limit - 1][1])


def search(conn: sqlite3.Connection, viewer: Viewer, text: str, limit: int | None) -> Listing:
    """Visible servables whose searchable text holds every word of `text`, best first, at most `limit`."""
    words = list(dict.fromkeys(text.lower().split()))
    if any("\0" in w for w in words):
        # stored text never holds NUL (manifests refuse control characters) and FTS5 cannot parse it
        return Listing([])
    indexed = [w for w in words if len(w) >= TRIGRAM] if has_fts(conn) else []
    visible, params = viewer.sql()
    joins, where = "", [visible]
    if indexed:
        joins = f"JOIN {FTS_TABLE} f ON f.rowid = c.servable_id "
        where.append(f"{FTS_TABLE} MATCH ?")
        params.append(" ".join(_phrase(w) for w in indexed))
    for word in (w for w in words if w not in indexed):
        where.append("instr(t.text, ?) > 0")
        params.append(word)
    score, score_params = _score(words)
    sql = (f"SELECT c.summary, {score} AS score FROM catalog c JOIN catalog_text t ON t.servable_id = "
           f"c.servable_id {joins}WHERE {' AND '.join(where)} ORDER BY score DESC, c.owner, c.name LIMIT ?")
    return Listing([r[0] for r in conn.execute(sql, [*score_params, *params, -1 if limit is None else limit])])


def _phrase(word: str) -> str:
    """An FTS5 string literal: with the trigram tokenizer it matches `word` as a substring."""
    return '"' + word.replace('"', '""') + '"'


def _score(words: Sequence[str]) -> tuple[str, list[str]]:
    """SQL summing, for each word, the weight of the best field of `t` that contains it."""
    if not words:
        return "0", []
    case = "CASE " + " ".join(f"WHEN instr(t.{f}, ?) > 0 THEN {w}" for f, w in WEIGHTS.items()) + " ELSE 0 END"
    return " + ".join([case] * len(words)), [w for w in words for _ in WEIGHTS]

