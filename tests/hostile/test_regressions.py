"""Inputs that once crashed or hung the loader or validator, pinned one by one at the function level."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlhub_manifest.manifest.load import load_file, load_text
from dlhub_manifest.manifest.validate import validate_path


@pytest.mark.parametrize("text", ['a: !!bool maybe\n', 'a: !!bool ""\n', 'a: !!int ""\n', 'a: !!int "-"\n',
                                  'a: !!float "_"\n'])
def test_explicit_scalar_tag_with_an_impossible_value_is_a_located_problem(text: str) -> None:
    doc, problems = load_text(text)
    assert doc is None
    assert (problems[0].line, problems[0].column, problems[0].path) == (1, 4, ("a",))
    assert problems[0].message.startswith("cannot read scalar")


@pytest.mark.parametrize("number", ["0x" + "f" * 5000, "0" + "7" * 2000, "1" + ":59" * 40, "9223372036854775808"])
def test_integer_beyond_64_bits_is_refused_before_anything_formats_it(number: str) -> None:
    # Such ints passed the loader and then crashed jsonschema's repr() (Python's 4300-digit str limit).
    doc, problems = load_text(f"manifest_version: 1\npublication_year: {number}\n")
    assert doc is None
    assert (problems[0].line, problems[0].column, problems[0].path) == (2, 19, ("publication_year",))
    assert "too large" in problems[0].message and len(problems[0].message) < 100


def test_largest_64_bit_integer_still_loads() -> None:
    doc, problems = load_text("a: 0x7fffffffffffffff\nb: -9223372036854775807\n")
    assert problems == [] and doc is not None
    assert doc.data == {"a": 2**63 - 1, "b": -(2**63) + 1}


@pytest.mark.parametrize("opener", ["[", "{a: ", "- "])
def test_nesting_far_past_the_limit_is_refused_without_crashing_the_process(opener: str) -> None:
    # 100,000 levels overflowed libyaml's recursive C composer (SIGSEGV); a child process keeps pytest alive.
    probe = ("import sys; from dlhub_manifest.manifest.load import load_text; "
             "doc, problems = load_text(sys.stdin.read()); print(problems[0].line, problems[0].message)")
    text = opener * (1_000_000 // len(opener))
    proc = subprocess.run([sys.executable, "-c", probe], input=text, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "1 nesting is deeper than 64 levels"


def test_a_huge_flat_document_is_called_what_it_is_not_an_alias_expansion() -> None:
    # 200,000 plain values were reported as "aliases expand to more than 100000 nodes" although there was no alias.
    doc, problems = load_text("keywords: [" + ", ".join(["x"] * 200_000) + "]\n")
    assert doc is None
    assert problems[0].line == 1 and "holds more than 100000 values" in problems[0].message
    assert "alias" not in problems[0].message


def test_a_fifo_given_as_the_manifest_is_refused_instead_of_blocking_forever(tmp_path: Path) -> None:
    # open() on a FIFO without a writer blocks; the probe runs in a child so a regression fails instead of hanging.
    fifo = tmp_path / "dlhub.yaml"
    os.mkfifo(fifo)
    probe = ("import sys; from dlhub_manifest.manifest.load import load_file; "
             "doc, problems = load_file(sys.argv[1]); print(doc, problems[0].format_text())")
    proc = subprocess.run([sys.executable, "-c", probe, str(fifo)], capture_output=True, text=True, timeout=60)
    expected = f"None {fifo}: is not a regular file (a FIFO, socket or device) (hint: pass the path of a dlhub.yaml"
    assert proc.stdout.strip() == expected + ' file)', proc.stderr[-2000:]


def test_a_character_device_is_not_read_as_a_manifest(tmp_path: Path) -> None:
    link = tmp_path / "dlhub.yaml"
    link.symlink_to("/dev/zero")
    doc, problems = load_file(link)
    assert doc is None and problems[0].message == "is not a regular file (a FIFO, socket or device)"


@pytest.mark.parametrize(("text", "line", "column"), [("[", 1, 2), ("a: 1\nb: [x", 2, 6), ("a: 1\r\nb: {x", 2, 6),
                                                      ("a: [\n", 2, 1)])
def test_an_error_at_end_of_input_points_at_a_line_the_file_has(text: str, line: int, column: int) -> None:
    # libyaml placed "unexpected end" one line past the last when the file had no final newline.
    doc, problems = load_text(text)
    assert doc is None
    assert (problems[0].line, problems[0].column) == (line, column)


SKLEARN = ('manifest_version: 1\nname: x\ntitle: t\ncreators: ["Ward, Logan"]\n'
           "servable: {type: sklearn, options: {model: m.pkl, n_input_columns: 4}}\n")


def _project(root: Path, files: str) -> Path:
    (root / "dlhub.yaml").write_text(SKLEARN + f"files: {files}\n")
    (root / "m.pkl").write_bytes(b"x")
    return root


def test_a_glob_over_symlink_loops_finishes(tmp_path: Path) -> None:
    # glob.iglob followed `a -> .` and `b -> .` into 2**40 paths: validate never returned.
    project = _project(tmp_path, '["**/nomatch"]')
    (project / "a").symlink_to(".")
    (project / "b").symlink_to(".")
    probe = ("import sys; from dlhub_manifest.manifest.validate import validate_path; "
             "print(*[d.format_text() for d in validate_path(sys.argv[1])[1].diagnostics], sep='\\n')")
    proc = subprocess.run([sys.executable, "-c", probe, str(project)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ":6:9: files[0]: '**/nomatch' matches no file in the project" in proc.stdout


def test_a_glob_reaching_outside_through_a_symlink_is_reported(tmp_path: Path) -> None:
    project = _project(tmp_path, '["out/*"]')
    (project / "out").symlink_to("/etc")
    report = validate_path(project)[1]
    assert [(d.line, d.field) for d in report.errors] == [(6, "files[0]")]
    assert "symlink that points outside the project" in report.errors[0].message


def test_a_glob_selecting_a_fifo_is_reported_unless_excluded(tmp_path: Path) -> None:
    project = _project(tmp_path, '{include: ["**"], exclude: ["skip/**"]}')
    for folder in ("sub", "skip"):
        (project / folder).mkdir()
        os.mkfifo(project / folder / "pipe")
    report = validate_path(project)[1]
    assert [d.message for d in report.errors] == ["'**' selects a path that cannot be shipped: 'sub/pipe' is not a "
                                                  "regular file; a file is expected"]


@pytest.mark.parametrize(("old", "new", "line"), [
    ("title: t", "title: " + "x" * 200_000, 3),
    ("title: t", "title: t\nlicense: " + "x" * 200_000, 4),
    ("title: t", "title: t\n? " + "x" * 200_000 + "\n: 1", 4),  # `?`: a plain key stops at 1024 characters
], ids=["title", "license", "key"])
def test_a_huge_value_is_quoted_shortened_not_whole(tmp_path: Path, old: str, new: str, line: int) -> None:
    # A 200,000-character title, license or unknown key must not come back whole inside the message.
    (tmp_path / "dlhub.yaml").write_text(SKLEARN.replace(old, new))
    (tmp_path / "m.pkl").write_bytes(b"x")
    errors = validate_path(tmp_path)[1].errors
    assert [d.line for d in errors] == [line]
    assert " ... " in errors[0].message and len(errors[0].format_text()) < 2000


@pytest.mark.parametrize("exclude", ["null", "7", "'tmp/**'", "{a: 1}"])
def test_an_exclude_that_is_not_a_list_is_a_type_problem_not_a_crash(tmp_path: Path, exclude: str) -> None:
    project = _project(tmp_path, f'{{include: ["*.pkl"], exclude: {exclude}}}')
    report = validate_path(project)[1]
    assert [(d.line, d.field) for d in report.errors] == [(6, "files.exclude")]


@pytest.mark.parametrize(("escape", "code"), [("\\x1b[2J", "001B"), ("\\0", "0000"), ("bell\\a", "0007")])
def test_a_control_character_written_as_an_escape_is_refused(escape: str, code: str) -> None:
    # The raw-text check missed escapes: "\x1b[2J" reached the data and any terminal that shows the metadata.
    doc, problems = load_text(f'title: "{escape}"\n')
    assert doc is None
    assert (problems[0].line, problems[0].path) == (1, ("title",))
    assert problems[0].message == f"string holds control character U+{code} (from an escape)"


def test_tabs_and_newlines_written_as_escapes_are_still_text() -> None:
    doc, problems = load_text('description: "a\\tb\\nc"\n')
    assert problems == [] and doc is not None and doc.data == {"description": "a\tb\nc"}


@pytest.mark.parametrize("text", ["servable:\n  !!python/name:os.system : 1\n", '!!int "": 1\n',
                                  "? !!binary aGk=\n: 1\n"])
def test_a_bad_key_is_reported_on_its_mapping_without_an_internal_marker(text: str) -> None:
    # Key problems carried the loader's internal path part "\0key", so a NUL byte was printed in the report.
    doc, problems = load_text(text)
    assert doc is None
    assert "\0" not in problems[0].format_text()
    assert problems[0].path == (("servable",) if text.startswith("servable") else ())


FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(("line", "field", "old", "new"), [
    (6, "version", "", 'version: "1.2.1' + "3".translate(FULLWIDTH) + '"\n'),
    (6, "version", "", 'version: "' + "1.2.0".translate(FULLWIDTH) + '"\n'),
    (4, "creators[0].orcid", '["Ward, Logan"]', '[{name: "Ward, Logan", orcid: "' +
     "0000-0002-1825-009".translate(FULLWIDTH) + 'X"}]'),
])
def test_look_alike_digits_are_refused_where_the_schema_says_digits(tmp_path: Path, line: int, field: str, old: str,
                                                                    new: str) -> None:
    # Python's \d matches fullwidth digits: "1.2.1３" passed the schema's version pattern and reads as 1.2.13.
    text = SKLEARN.replace(old, new) if old else SKLEARN + new
    (tmp_path / "dlhub.yaml").write_text(text)
    (tmp_path / "m.pkl").write_bytes(b"x")
    errors = validate_path(tmp_path)[1].errors
    assert {(d.line, d.field) for d in errors} == {(line, field)}  # "１.２.０" also fails the pattern itself
    assert any("outside ASCII" in d.message for d in errors)


def test_a_doi_prefix_in_look_alike_digits_is_not_a_doi(tmp_path: Path) -> None:
    (tmp_path / "dlhub.yaml").write_text(SKLEARN + 'related: [{doi: "10.' + "1000".translate(FULLWIDTH) + '/x"}]\n')
    (tmp_path / "m.pkl").write_bytes(b"x")
    errors = validate_path(tmp_path)[1].errors
    assert [(d.line, d.field) for d in errors] == [(6, "related[0].doi")]
    assert "is not a DOI" in errors[0].message
