"""`list` and `search` on PostgreSQL: one SQL query each, visibility decided in SQL, same answers as SQLite.

A query word must occur in the searchable text, inside a word too: `LIKE '%word%'` over the `pg_trgm` GIN
index finds the candidates (words shorter than a trigram are checked on the rows the others leave). The text,
the summary and the visibility flags share the catalog row, so a search reads each candidate row once; when
enough servables hold every word in their title, a second trigram index on titles answers alone. Ranking is
the shared field-weighted score (`browse.score_sql`), then OWNER/NAME; pages are keyed on OWNER/NAME.
"""

from __future__ import annotations

import json
from typing import Any

from dlhub_manifest.registry.browse import TRIGRAM, Filters, Found, Listing, Viewer, query_words, score_sql

NO_LIMIT = "ALL"


def visibility(viewer: Viewer) -> tuple[str, list[Any]]:
    """The visibility condition on catalog row `c`: public, the viewer's own, or shared with a principal."""
    return ("(c.public OR c.owner = %s OR EXISTS (SELECT 1 FROM catalog_access a WHERE a.servable_id = "
            "c.servable_id AND a.principal = ANY(%s)))", [viewer.username, list(viewer.principals)])


def list_page(conn: Any, viewer: Viewer, limit: int | None, after: tuple[str, str] | None) -> Listing:
    """Visible servables by OWNER/NAME after `after`, at most `limit` (None: all); `next` when more follow."""
    visible, params = visibility(viewer)
    where = [visible]
    if after is not None:
        where.append("(c.owner, c.name) > (%s, %s)")
        params += after
    sql = (f"SELECT c.summary, c.owner || '/' || c.name AS ref FROM catalog c WHERE {' AND '.join(where)} "
           f"ORDER BY c.owner, c.name LIMIT {NO_LIMIT if limit is None else int(limit) + 1}")
    rows = conn.execute(sql, params).fetchall()
    if limit is None or len(rows) <= limit:
        return Listing([r["summary"] for r in rows])
    return Listing([r["summary"] for r in rows[:limit]], rows[limit - 1]["ref"])


def search(conn: Any, viewer: Viewer, text: str, limit: int | None) -> Listing:
    """Visible servables whose searchable text holds every word of `text`, best first, at most `limit`."""
    words = query_words(text)
    if words is None:
        return Listing([])
    if limit is not None and any(len(w) >= TRIGRAM for w in words):
        best = _in_titles(conn, viewer, words, limit)
        if len(best) == limit:
            return Listing(best)
    visible, params = visibility(viewer)
    where = [visible]
    for word in words:
        where.append("c.text LIKE %s")
        params.append("%" + _escape_like(word) + "%")
    score, score_params = score_sql(words, "strpos(c.text_{field}, %s) > 0")
    sql = (f"SELECT c.summary, {score} AS score FROM catalog c WHERE {' AND '.join(where)} "
           "ORDER BY score DESC, c.owner, c.name "
           f"LIMIT {NO_LIMIT if limit is None else int(limit)}")
    return Listing([r["summary"] for r in conn.execute(sql, [*score_params, *params]).fetchall()])


def find(conn: Any, viewer: Viewer, text: str, filters: Filters, limit: int, offset: int) -> Found:
    """`search` with `filters`, counted, one page of `limit` from `offset` (best first, then OWNER/NAME)."""
    words = query_words(text)
    if words is None:
        return Found([], 0)
    visible, params = visibility(viewer)
    where, joins = [visible, *(["c.text LIKE %s"] * len(words))], ""
    params += ["%" + _escape_like(w) + "%" for w in words]
    if filters.owner:
        where.append("c.owner = %s")
        params.append(filters.owner)
    for field, value in (("domains", filters.domain), ("keywords", filters.keyword)):
        if value:  # one whole line of the field: the fields are newline-joined and lower-cased
            where.append(f"strpos(E'\\n' || c.text_{field} || E'\\n', %s) > 0")
            params.append("\n" + value.strip().lower() + "\n")
    if filters.type:
        joins = "JOIN versions v ON v.id = c.version_id "
        where.append("lower(v.document::jsonb #>> '{servable,type}') = %s")
        params.append(filters.type.strip().lower())
    score, score_params = score_sql(words, "strpos(c.text_{field}, %s) > 0")
    condition = " AND ".join(where)
    rows = conn.execute(f"SELECT c.summary, c.version_id, {score} AS score, count(*) OVER () AS total FROM catalog c "
                        f"{joins}WHERE {condition} ORDER BY score DESC, c.owner, c.name LIMIT %s OFFSET %s",
                        [*score_params, *params, limit, offset]).fetchall()
    if rows:
        total = int(rows[0]["total"])
    else:  # a page past the end: still say how many there are
        total = int(conn.execute(f"SELECT count(*) AS n FROM catalog c {joins}WHERE {condition}", params)
                    .fetchone()["n"])
    types = _types(conn, [r["version_id"] for r in rows])
    return Found([{**json.loads(r["summary"]), "type": types.get(r["version_id"])} for r in rows], total)


def _types(conn: Any, version_ids: list[int]) -> dict[int, str | None]:
    """The servable type of a few versions (read from their documents: only for the page shown)."""
    if not version_ids:
        return {}
    rows = conn.execute("SELECT id, document::jsonb #>> '{servable,type}' AS type FROM versions "
                        "WHERE id = ANY(%s)", (version_ids,)).fetchall()
    return {r["id"]: r["type"] for r in rows}


def _in_titles(conn: Any, viewer: Viewer, words: list[str], limit: int) -> list[str]:
    """The first `limit` servables by OWNER/NAME whose title holds every word: when there are that many, they
    are the answer, since a title hit is worth the most for each word (and equal scores sort by OWNER/NAME).

    A common word fragment can occur in a tenth of the catalog; scoring all of those takes ~100 ms on 100,000
    servables, while the title index finds the best ones in ~10 ms."""
    visible, params = visibility(viewer)
    where = [visible, *(["c.text_title LIKE %s"] * len(words))]
    sql = f"SELECT c.summary FROM catalog c WHERE {' AND '.join(where)} ORDER BY c.owner, c.name LIMIT {int(limit)}"
    return [r["summary"] for r in conn.execute(sql, [*params, *("%" + _escape_like(w) + "%" for w in words)])]


def _escape_like(word: str) -> str:
    """`word` as a LIKE pattern matching itself (default escape character: backslash)."""
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
