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
TEXT_JOIN = "JOIN catalog_text t ON t.servable_id = c.servable_id "


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
    match = _match(conn, viewer, text)
    if match is None:
        return Listing([])
    sql = (f"SELECT c.summary, {match.score} AS score FROM catalog c {match.joins}WHERE {match.where} "
           "ORDER BY score DESC, c.owner, c.name LIMIT ?")
    return Listing([r[0] for r in conn.execute(sql, [*match.score_params, *match.params,
                                                     -1 if limit is None else limit])])


@dataclass(frozen=True)
class Filters:
    """Exact filters on top of a search: servable type, domain, keyword (case-insensitive) and owner."""

    type: str | None = None
    domain: str | None = None
    keyword: str | None = None
    owner: str | None = None

    def sql(self) -> tuple[list[str], list[Any]]:
        """Conditions on `c` (catalog), `t` (catalog_text) and `v` (the latest version), with parameters."""
        where: list[str] = []
        params: list[Any] = []
        if self.owner:
            where.append("c.owner = ?")
            params.append(self.owner)
        for field, value in (("domains", self.domain), ("keywords", self.keyword)):
            if value:  # one whole line of the field: the fields are newline-joined and lower-cased
                where.append(f"instr(char(10) || t.{field} || char(10), ?) > 0")
                params.append("\n" + value.strip().lower() + "\n")
        if self.type:
            where.append("lower(json_extract(v.document, '$.servable.type')) = ?")
            params.append(self.type.strip().lower())
        return where, params


@dataclass(frozen=True)
class Found:
    """One page of a filtered search: the summaries (each with the servable `type`) and how many match in all."""

    items: list[dict[str, Any]]
    total: int


def find(conn: sqlite3.Connection, viewer: Viewer, text: str, filters: Filters, limit: int, offset: int) -> Found:
    """`search` with `filters`, counted, one page of `limit` from `offset` (best first, then OWNER/NAME)."""
    match = _match(conn, viewer, text)
    if match is None:
        return Found([], 0)
    extra, extra_params = filters.sql()
    where = " AND ".join([match.where, *extra])
    joins = match.joins
    if (filters.domain or filters.keyword) and TEXT_JOIN not in joins:
        joins += TEXT_JOIN
    if filters.type:
        joins += "JOIN versions v ON v.id = c.version_id "
    params = [*match.params, *extra_params]
    if not match.score_params:  # no words: every score is 0, so the (owner, name) index gives the order
        total = conn.execute(f"SELECT count(*) FROM catalog c {joins}WHERE {where}", params).fetchone()[0]
        rows = conn.execute(f"SELECT c.summary, c.version_id FROM catalog c {joins}WHERE {where} "
                            "ORDER BY c.owner, c.name LIMIT ? OFFSET ?", [*params, limit, offset]).fetchall()
        return Found(_with_types(conn, rows), int(total))
    # one pass over the matches for both the count and the ranking; summaries are read for the page only
    sql = (f"SELECT c.servable_id, {match.score} AS score, count(*) OVER () FROM catalog c {joins}"
           f"WHERE {where} ORDER BY score DESC, c.owner, c.name LIMIT ? OFFSET ?")
    ranked = conn.execute(sql, [*match.score_params, *params, limit, offset]).fetchall()
    if not ranked:  # a page past the end: still say how many there are
        total = conn.execute(f"SELECT count(*) FROM catalog c {joins}WHERE {where}", params).fetchone()[0]
        return Found([], int(total))
    ids = [r[0] for r in ranked]
    summaries = {r[0]: r[1:] for r in conn.execute(
        f"SELECT servable_id, summary, version_id FROM catalog WHERE servable_id IN ({', '.join('?' * len(ids))})",
        ids)}
    return Found(_with_types(conn, [summaries[i] for i in ids]), int(ranked[0][2]))


def _with_types(conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Each row's summary with its servable `type` added."""
    types = _types(conn, [r[1] for r in rows])
    return [{**json.loads(r[0]), "type": types.get(r[1])} for r in rows]


def _types(conn: sqlite3.Connection, version_ids: list[int]) -> dict[int, str | None]:
    """The servable type of a few versions (read from their documents: only for the page shown)."""
    if not version_ids:
        return {}
    marks = ", ".join("?" * len(version_ids))
    rows = conn.execute(f"SELECT id, json_extract(document, '$.servable.type') FROM versions WHERE id IN ({marks})",
                        version_ids)
    return {r[0]: r[1] for r in rows}


@dataclass(frozen=True)
class _Match:
    """The SQL of a word search: joins, WHERE condition and the score expression, each with parameters."""

    joins: str
    where: str
    params: list[Any]
    score: str
    score_params: list[str]


def _match(conn: sqlite3.Connection, viewer: Viewer, text: str) -> _Match | None:
    """The SQL matching every word of `text` among visible servables (None: nothing can match)."""
    words = query_words(text)
    if words is None:
        return None
    indexed = [w for w in words if len(w) >= TRIGRAM] if has_fts(conn) else []
    visible, params = viewer.sql()
    joins, where = TEXT_JOIN if words else "", [visible]
    if indexed:
        joins += f"JOIN {FTS_TABLE} f ON f.rowid = c.servable_id "
        where.append(f"{FTS_TABLE} MATCH ?")
        params.append(" ".join(_phrase(w) for w in indexed))
    for word in (w for w in words if w not in indexed):
        where.append("instr(t.text, ?) > 0")
        params.append(word)
    score, score_params = score_sql(words, "instr(t.{field}, ?) > 0")
    return _Match(joins, " AND ".join(where), params, score, score_params)


def query_words(text: str) -> list[str] | None:
    """The distinct lower-cased words of a query; None when it can match nothing (a NUL: stored text never
    holds one, since manifests refuse control characters, and FTS5 cannot parse it)."""
    words = list(dict.fromkeys(text.lower().split()))
    return None if any("\0" in w for w in words) else words


def _phrase(word: str) -> str:
    """An FTS5 string literal: with the trigram tokenizer it matches `word` as a substring."""
    return '"' + word.replace('"', '""') + '"'


def score_sql(words: Sequence[str], contains: str) -> tuple[str, list[str]]:
    """SQL summing, for each word, the weight of the best field of `t` that contains it; `contains` is this
    database's test that `t.{field}` holds a word parameter."""
    if not words:
        return "0", []
    case = "CASE " + " ".join(f"WHEN {contains.format(field=f)} THEN {w}" for f, w in WEIGHTS.items()) + " ELSE 0 END"
    return " + ".join([case] * len(words)), [w for w in words for _ in WEIGHTS]

