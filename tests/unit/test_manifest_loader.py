"""The located safe loader: positions, duplicates, tags, dates, limits."""

from __future__ import annotations

from dlhub_manifest.manifest.load import MAX_BYTES, load_bytes, load_text


def test_positions_of_nested_fields_are_one_based() -> None:
    doc, problems = load_text("a: 1\nservable:\n  options:\n    model: m.pkl\nlist:\n  - x\n  - y\n")
    assert problems == [] and doc is not None
    assert doc.positions[("servable", "options", "model")] == (4, 5)
    assert doc.positions[("list", 1)] == (7, 5)
    assert doc.locate(("servable", "options", "missing")) == (3, 3)


def test_dates_stay_strings_and_numbers_stay_numbers() -> None:
    doc, _ = load_text("when: 2024-01-01\nyear: 2024\nratio: 0.5\nflag: true\nnothing: null\n")
    assert doc is not None
    assert doc.data == {"when": "2024-01-01", "year": 2024, "ratio": 0.5, "flag": True, "nothing": None}


def test_duplicate_key_names_both_lines() -> None:
    doc, problems = load_text("servable:\n  type: a\n  type: b\n")
    assert doc is None
    assert (problems[0].line, problems[0].path) == (3, ("servable", "type"))
    assert "first defined on line 2" in problems[0].message


def test_python_tags_are_refused_without_constructing_anything() -> None:
    doc, problems = load_text("x: !!python/object/apply:os.system ['touch /tmp/pwned-dlhub']\n")
    assert doc is None
    assert "is not allowed" in problems[0].message and problems[0].line == 1


def test_billion_laughs_is_refused() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]")
    doc, problems = load_text("\n".join(lines) + "\n")
    assert doc is None
    assert "aliases expand" in problems[0].message


def test_small_alias_use_is_fine() -> None:
    doc, problems = load_text("a: &x [1, 2]\nb: *x\n")
    assert problems == [] and doc is not None and doc.data == {"a": [1, 2], "b": [1, 2]}


def test_deep_nesting_is_refused_cleanly() -> None:
    doc, problems = load_text("[" * 5000 + "]" * 5000)
    assert doc is None and "nesting" in problems[0].message


def test_bom_is_accepted_and_invalid_utf8_is_located() -> None:
    doc, problems = load_bytes(b"\xef\xbb\xbfname: x\n")
    assert problems == [] and doc is not None and doc.data == {"name": "x"}
    doc, problems = load_bytes(b"name: ok\ntitle: caf\xe9\n")
    assert doc is None and (problems[0].line, problems[0].column) == (2, 11)
    assert "UTF-8" in problems[0].message


def test_oversized_input_is_refused_before_parsing() -> None:
    doc, problems = load_bytes(b"#" * (MAX_BYTES + 1))
    assert doc is None and "larger than" in problems[0].message


def test_empty_and_comment_only_files_are_empty_manifests() -> None:
    for text in ("", "# nothing here\n"):
        doc, problems = load_text(text)
        assert doc is None and problems[0].message == "manifest is empty"


def test_non_string_keys_are_refused() -> None:
    doc, problems = load_text("1: one\n")
    assert doc is None and "must be a string" in problems[0].message


def test_merge_keys_are_refused() -> None:
    doc, problems = load_text("base: &b {x: 1}\nother:\n  <<: *b\n")
    assert doc is None and "merge keys" in problems[0].message


def test_an_unclosed_construct_names_where_it_was_found_and_where_it_started() -> None:
    doc, problems = load_text('manifest_version: 1\nname: x\ncreators: ["Doe, Jane"\ntitle: A\n', "dlhub.yaml")
    assert doc is None and [(d.line, d.column) for d in problems] == [(4, 1)]
    assert problems[0].message == ("YAML syntax error while parsing a flow sequence that starts at line 3, column 11: "
                                   "did not find expected ',' or ']'")
    _, quoted = load_text('name: "x\ntitle: A\n', "dlhub.yaml")
    assert quoted[0].line == 3 and "quoted scalar that starts at line 1, column 7" in quoted[0].message


def test_a_problem_on_the_line_where_its_construct_started_names_the_line_once() -> None:
    _, problems = load_text("a: [1, 2}\n", "dlhub.yaml")
    assert problems[0].line == 1 and "starts at line" not in problems[0].message
