"""The catalog behind `list` and `search`: kept with each registration, migrated into old registries, visibility
in SQL, substring matching, ranking, limits and pages, and the same answers without FTS5."""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from catalog_support import document, names, register

from dlhub_manifest.errors import UsageError
from dlhub_manifest.registry import catalog
from dlhub_manifest.registry import store as q
from dlhub_manifest.registry.service import Identity, RegistryService

ALICE = Identity("local:alice", "alice")
BOB = Identity("local:bob", "bob")
GROUP = "urn:globus:groups:id:fdb38a24-03c1-11e3-86f7-12313809f035"
CAROL = Identity("local:carol", "carol", (GROUP,))


def _corpus(root: Path, database: str | None) -> Iterator[RegistryService]:
    """Five servables with known text: what each test below searches and lists."""
    register(root, "alice", "1.0.0", document("band-gap", title="Band gap regressor",
                                              description="Predicts band gaps of crystals.",
                                              creators=("Ward, Logan",), keywords=("materials",)), database)
    register(root, "alice", "1.0.0", document("iris", title="Iris classifier", description="Doubles as a band demo.",
                                              creators=("Chard, Ryan",), keywords=("flowers",)), database)
    register(root, "bob", "0.1.0", document("crystal-net", title="Crystal graph network",
                                            description="Formation energy.", creators=("Ward, Logan",),
                                            keywords=("band structure",)), database)
    register(root, "bob", "0.2.0", document("secret", title="Secret band model", visible_to=[BOB.id]), database)
    register(root, "bob", "0.3.0", document("shared", title="Shared band model", visible_to=[GROUP]), database)
    service = RegistryService(root, database=database)
    yield service
    service.close()


@pytest.fixture
def corpus(tmp_path: Path, database: str | None) -> Iterator[RegistryService]:
    """The corpus on each backend."""
    yield from _corpus(tmp_path / "registry", database)


@pytest.fixture
def sqlite_corpus(tmp_path: Path) -> Iterator[RegistryService]:
    """The corpus in SQLite (for what only the SQLite records have: the FTS5 index)."""
    yield from _corpus(tmp_path / "registry", None)


def test_search_matches_every_word_inside_words_and_case_insensitively(corpus: RegistryService) -> None:
    assert names(corpus.search(ALICE, "CRYST")) == ["bob/crystal-net", "alice/band-gap"]  # title before description
    assert names(corpus.search(ALICE, "ward gap")) == ["alice/band-gap"]
    assert names(corpus.search(ALICE, "oubl")) == ["alice/iris"]  # inside "Doubles"
    assert names(corpus.search(ALICE, "gy")) == ["bob/crystal-net"]  # shorter than a trigram: "energy"
    assert names(corpus.search(ALICE, "ar")) == ["alice/band-gap", "alice/iris", "bob/crystal-net"]  # creators tie
    assert corpus.search(ALICE, "band zebra") == []


def test_search_ranks_title_above_name_keywords_creators_and_description(corpus: RegistryService) -> None:
    # "band": title of band-gap (and of bob's two private ones), name too; keyword of crystal-net; iris's description
    assert names(corpus.search(ALICE, "band")) == ["alice/band-gap", "bob/crystal-net", "alice/iris"]
    assert names(corpus.search(BOB, "band")) == ["alice/band-gap", "bob/secret", "bob/shared", "bob/crystal-net",
                                                 "alice/iris"]


def test_private_servables_are_filtered_in_sql_for_list_and_search(corpus: RegistryService) -> None:
    assert names(corpus.list_servables(ALICE)) == ["alice/band-gap", "alice/iris", "bob/crystal-net"]
    assert names(corpus.list_servables(BOB)) == ["alice/band-gap", "alice/iris", "bob/crystal-net", "bob/secret",
                                                 "bob/shared"]
    assert names(corpus.list_servables(CAROL)) == ["alice/band-gap", "alice/iris", "bob/crystal-net", "bob/shared"]
    assert names(corpus.search(ALICE, "model")) == []
    assert names(corpus.search(CAROL, "model")) == ["bob/shared"]
    by_id = Identity(BOB.id, "someone-else")  # shared with bob's identity, whatever the namespace
    assert names(corpus.search(by_id, "model")) == ["bob/secret"]


def test_search_limit_keeps_the_best(corpus: RegistryService) -> None:
    assert names(corpus.search(BOB, "band", limit=2)) == ["alice/band-gap", "bob/secret"]
    assert len(corpus.search(ALICE, "", limit=None)) == 3  # no words: every visible servable
    for bad in (0, 10_001):
        with pytest.raises(UsageError, match="limit must be between 1 and 10000"):
            corpus.search(ALICE, "band", limit=bad)


def test_query_syntax_is_taken_literally(corpus: RegistryService) -> None:
    for text in ('"', 'band"', "NEAR(band", "band OR iris", "ba*", "-band", "^band", "{title}: band", "NOT"):
        assert corpus.search(ALICE, text) == [], text


def test_a_nul_byte_in_the_query_matches_nothing_instead_of_breaking_fts(corpus: RegistryService) -> None:
    # schemathesis sent `GET /search?q=...%00` and the FTS5 parser failed with "unterminated string" (a 500)
    for text in ("band\0", "\0", "band \0gap"):
        assert corpus.search(ALICE, text) == [], repr(text)
    assert names(corpus.search(ALICE, "band gap")) == ["alice/band-gap"]


def test_list_pages_cover_everything_once_in_order(corpus: RegistryService) -> None:
    seen: list[str] = []
    after, pages = None, 0
    while True:
        page = corpus.list_page(BOB, limit=2, after=after)
        seen += names(page.items())
        pages += 1
        if page.next is None:
            break
        assert page.next == seen[-1]
        after = page.next
    assert pages == 3 and seen == ["alice/band-gap", "alice/iris", "bob/crystal-net", "bob/secret", "bob/shared"]
    assert corpus.list_page(BOB, limit=5).next is None  # exactly one full page: no empty page after it
    assert names(corpus.list_page(ALICE, after="alice/zzz").items()) == ["bob/crystal-net"]
    with pytest.raises(UsageError, match="OWNER/NAME"):
        corpus.list_page(ALICE, after="no-slash")


def test_latest_version_by_precedence_replaces_the_catalog_entry(tmp_path: Path, database: str | None) -> None:
    root = tmp_path / "registry"
    register(root, "alice", "1.9.0", document("demo", title="Old title"), database)
    register(root, "alice", "1.10.0", document("demo", title="New title", visible_to=[GROUP]), database)
    register(root, "alice", "1.10.0-rc.1", document("demo", title="Candidate"), database)  # later, not newer
    service = RegistryService(root, database=database)
    [item] = service.list_servables(ALICE)
    assert (item["version"], item["latest"], item["title"]) == ("1.10.0", "1.10.0", "New title")
    assert item["versions"] == ["1.9.0", "1.10.0-rc.1", "1.10.0"]
    assert names(service.search(ALICE, "new")) == ["alice/demo"]
    assert service.search(ALICE, "old") == [] and service.search(ALICE, "candidate") == []
    assert service.list_servables(BOB) == [] and names(service.list_servables(CAROL)) == ["alice/demo"]
    service.close()


def test_a_registry_from_the_first_schema_is_migrated_and_backfilled(tmp_path: Path) -> None:
    root = tmp_path / "registry"
    root.mkdir()
    old = sqlite3.connect(root / q.DB_NAME)
    old.executescript(q._V1)  # the schema dlhub-manifest wrote before the catalog existed
    rows = [("alice", "band-gap", "2.0.0", document("band-gap", title="Band gap regressor")),
            ("alice", "band-gap", "10.0.0", document("band-gap", title="Band gap regressor v10")),
            ("bob", "secret", "0.1.0", document("secret", title="Secret band model", visible_to=[BOB.id]))]
    for number, (owner, name, version, doc) in enumerate(rows, 1):
        old.execute("INSERT OR IGNORE INTO servables (owner, name, uuid, created_at) VALUES (?, ?, ?, 0)",
                    (owner, name, str(uuid.uuid4())))
        old.execute("INSERT INTO versions (servable_id, version, document, content_digest, provenance, search_text, "
                    "created_at, task_id) SELECT id, ?, ?, 'd', '{}', '', ?, 't' FROM servables WHERE owner = ? "
                    "AND name = ?", (version, json.dumps(doc), number, owner, name))
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()

    service = RegistryService(root)
    assert [(i["servable"], i["version"], i["versions"]) for i in service.list_servables(ALICE)] == [
        ("alice/band-gap", "10.0.0", ["2.0.0", "10.0.0"])]
    assert names(service.search(ALICE, "v10")) == ["alice/band-gap"]
    assert names(service.search(BOB, "band")) == ["alice/band-gap", "bob/secret"]
    assert service.store.conn.execute("PRAGMA user_version").fetchone()[0] == len(q.MIGRATIONS) == 2


def test_without_fts5_search_scans_and_answers_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a SQLite without FTS5 or the trigram tokenizer refuses the virtual table the same way
    monkeypatch.setattr(catalog, "FTS_SCHEMA", "CREATE VIRTUAL TABLE catalog_fts USING no_such_module(text);")
    root = tmp_path / "registry"
    register(root, "alice", "1.0.0", document("band-gap", title="Band gap", creators=("Ward, Logan",)))
    register(root, "alice", "1.0.0", document("iris", title="Iris", description="doubles as band demo"))
    service = RegistryService(root)
    assert not catalog.has_fts(service.store.conn)
    assert names(service.search(ALICE, "band")) == ["alice/band-gap", "alice/iris"]
    assert names(service.search(ALICE, "ward band")) == ["alice/band-gap"]
    assert names(service.search(ALICE, "oubl")) == ["alice/iris"]


def test_fts_index_serves_words_of_three_letters_or_more(sqlite_corpus: RegistryService) -> None:
    corpus = sqlite_corpus
    conn = corpus.store.conn
    assert catalog.has_fts(conn)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    corpus.search(ALICE, "band gy")
    conn.set_trace_callback(None)
    [query] = [s for s in statements if "catalog_text" in s]
    assert "catalog_fts MATCH '\"band\"'" in query and "instr(t.text, 'gy')" in query


@pytest.mark.parametrize("engine", ["fts5", "scan", "postgresql"])
def test_matches_are_exactly_the_substring_matches_of_the_old_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   engine: str, request: pytest.FixtureRequest
                                                                   ) -> None:
    # The old search: every lower-cased word of the query is a substring of the servable's lower-cased text.
    if engine == "scan":
        monkeypatch.setattr(catalog, "FTS_SCHEMA", "CREATE VIRTUAL TABLE catalog_fts USING no_such_module(text);")
    database = request.getfixturevalue("postgres_url") if engine == "postgresql" else None
    rng = random.Random(5)
    vocabulary = ["Band", "gap", "ÉNERGIE", "Straße", "x-ray", "10.1000/xyz", "Ward", "ΣΟΦΙΑ", "über", "a", "ab"]
    root = tmp_path / "registry"
    haystacks = {}
    for i in range(40):
        words = [rng.choice(vocabulary) + rng.choice(["", "s", "-1", "ing"]) for _ in range(6)]
        name, owner = f"m{i}", rng.choice(["alice", "bob"])
        doc = document(name, title=" ".join(words[:2]), description=" ".join(words[2:4]), creators=(words[4],),
                       keywords=(words[5],))
        register(root, owner, "1.0.0", doc, database)
        haystacks[f"{owner}/{name}"] = "\n".join([f"{owner}/{name}", *words]).lower()
    service = RegistryService(root, database=database)
    queries = ["", "BAND", "gap band", "nd", "e", "straße", "ÜBER ward", "x-r", "10.1000/", "σοφια", "ings-1", "zz"]
    queries += [rng.choice(sorted(haystacks.values()))[rng.randrange(3):][:rng.randrange(1, 7)] for _ in range(30)]
    partial = 0
    for query in queries:
        expected = {s for s, text in haystacks.items() if all(w in text for w in query.lower().split())}
        assert set(names(service.search(BOB, query, limit=None))) == expected, query
        partial += 0 < len(expected) < len(haystacks)
    service.close()
    assert partial >= 20  # the queries tell servables apart, not only all-or-nothing


def test_a_limited_search_is_the_head_of_the_full_ranking(tmp_path: Path, database: str | None) -> None:
    # PostgreSQL answers from the title index alone when enough titles hold every word: same order as scoring all
    rng = random.Random(7)
    vocabulary = ["band", "bandgap", "gap", "crystal", "ward", "energy", "iris", "graph"]
    root = tmp_path / "registry"
    for i in range(30):
        pick = lambda n: " ".join(rng.choice(vocabulary) for _ in range(n))  # noqa: E731
        register(root, rng.choice(["alice", "bob"]), "1.0.0", document(
            f"m{i:02d}", title=pick(2), description=pick(3), keywords=(pick(1),)), database)
    service = RegistryService(root, database=database)
    for query in ["band", "gap", "ban gap", "ward", "cryst", "en", "iris graph"]:
        everything = names(service.search(ALICE, query, limit=None))
        for limit in (1, 3, 5, 10):
            assert names(service.search(ALICE, query, limit=limit)) == everything[:limit], (query, limit)
    service.close()


def test_find_filters_counts_and_pages_alike_on_both_databases(corpus: RegistryService) -> None:
    from dlhub_manifest.registry.browse import Filters

    everything = corpus.find(BOB, "band", Filters(), limit=50)
    assert everything.total == 5 and [i["servable"] for i in everything.items] == [
        "alice/band-gap", "bob/secret", "bob/shared", "bob/crystal-net", "alice/iris"]
    page = corpus.find(BOB, "band", Filters(), limit=2, offset=2)
    assert page.total == 5 and [i["servable"] for i in page.items] == ["bob/shared", "bob/crystal-net"]
    assert corpus.find(BOB, "band", Filters(), limit=2, offset=10).total == 5  # past the end: still counted
    assert [i["servable"] for i in corpus.find(BOB, "", Filters(owner="alice"), limit=50).items] == [
        "alice/band-gap", "alice/iris"]
    by_keyword = corpus.find(ALICE, "", Filters(keyword="Band Structure"), limit=50)
    assert [i["servable"] for i in by_keyword.items] == ["bob/crystal-net"]
    assert corpus.find(ALICE, "", Filters(keyword="band"), limit=50).total == 0  # a keyword is the whole keyword
    assert corpus.find(ALICE, "band", Filters(type="sklearn"), limit=50).total == 0
