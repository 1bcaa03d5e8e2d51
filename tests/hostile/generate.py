"""Hostile cases generated in memory from valid base manifests (one per servable type) and the schema.

Families: a wrong type at every field, an unknown key in every closed mapping, a Cyrillic look-alike of
every key, a duplicate key in every mapping, unsafe tags at several places, huge strings in every
constrained field, path tricks on every path option, and byte/encoding/size/nesting/alias tricks.
Expected lines come from `emit`, never from the loader under test.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from . import schemawalk
from .case import Case
from .emit import DupKey, FieldPath, Raw, emit

FILE = "dlhub.yaml"
PROJECT: dict[str, bytes] = {
    "model.pkl": b"not really a pickle",
    "model.pt": b"not really torch",
    "model.keras": b"not really keras",
    "saved_model/saved_model.pb": b"not really tensorflow",
    "mypkg/__init__.py": b"",
    "mypkg/model.py": b"def run(x):\n    return x\n",
    "requirements.txt": b"numpy\n",
    "notes.txt": b"notes\n",
}
ARGUMENT = {"type": "ndarray", "description": "Feature matrix", "shape": [None, 4], "item_type": {"type": "float"},
            "element_types": [{"type": "string"}], "properties": {"x": {"type": "integer"}},
            "python_type": "numpy.ndarray", "file_types": ["image/png"]}
METHODS = {"run": {"description": "Predict", "input": ARGUMENT, "output": {"type": "ndarray", "shape": [None, 3]},
                   "parameters": {"batch_size": 32}, "method_details": {"method_name": "predict"}}}
SERVABLES: dict[str, dict[str, Any]] = {
    "sklearn": {"type": "sklearn", "options": {"model": "model.pkl", "serialization": "pickle", "n_input_columns": 4,
                                               "classes": ["setosa", "versicolor"], "method": "predict_proba"},
                "methods": METHODS},
    "static_method": {"type": "static_method", "options": {"function": "mypkg.model:run", "autobatch": False}},
    "class_method": {"type": "class_method", "options": {"object": "model.pkl", "method": "predict",
                                                         "serialization": "joblib"}},
    "pytorch": {"type": "pytorch", "options": {"model": "model.pt", "input_shape": [None, 4], "input_type": "float32",
                                               "output_shape": [None, 3], "output_type": "float32",
                                               "format": "torchscript", "custom_objects": ["mynet:Net"]}},
    "keras": {"type": "keras", "options": {"model": "model.keras", "output_names": ["probabilities"],
                                           "custom_objects": {"MyLayer": "layers:MyLayer"}}},
    "tensorflow": {"type": "tensorflow", "options": {"model": "saved_model", "signatures": ["serving_default"]}},
}
TOP: dict[str, Any] = {
    "$schema": "https://dlhub-manifest.github.io/schemas/dlhub-manifest.v1.schema.json",
    "manifest_version": 1,
    "name": "iris-classifier",
    "title": "Iris species classifier",
    "description": "Logistic regression on the iris data set.",
    "version": "1.2.0",
    "creators": ["Ward, Logan", {"name": "Carberry, Josiah", "orcid": "0000-0002-1825-0097",
                                 "affiliations": ["Brown University"]}, {"family": "Chard", "given": "Kyle"}],
    "license": "MIT",
    "publication_year": 2024,
    "related": [{"doi": "10.1000/xyz123", "relation": "IsDescribedBy"},
                {"identifier": "https://example.org/paper", "type": "URL", "relation": "Cites"}],
    "domains": ["materials science"],
    "keywords": ["classification"],
    "visible_to": ["public"],
    "funding": [{"funder": "U.S. Department of Energy", "award": "DE-AC02-06CH11357", "award_title": "Argonne"}],
    "servable": {},
    "files": {"include": ["*.txt"], "exclude": ["tmp/**"]},
    "dependencies": {"python": {"scikit-learn": "1.5.0", "numpy": 1.26}, "requirements": "requirements.txt"},
}
SAMPLES: dict[str, Any] = {"string": "wrong", "integer": 7, "number": 2.5, "boolean": True, "null": None,
                           "array": ["x"], "object": {"k": "v"}}
LOOKALIKES = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і", "s": "ѕ",
              "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "I": "І", "K": "К", "M": "М", "O": "О", "P": "Р",
              "T": "Т", "X": "Х"}
PATH_OPTIONS = {"model", "object", "requirements"}
UNSAFE_TAGS = ["!!python/object/apply:os.system [\"touch pwned\"]", "!!python/name:os.system",
               "!!python/object/new:builtins.dict []", "!!python/module:os", "!!python/tuple [1, 2]",
               "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]", "!!pairs [a: 1]", "!!timestamp 2024-01-01",
               "!custom value", "!<tag:example.com,2000:app/x> value"]


def base(servable_type: str = "sklearn") -> dict[str, Any]:
    """A valid, complete manifest for `servable_type` (every optional field present)."""
    data = copy.deepcopy(TOP)
    data["servable"] = copy.deepcopy(SERVABLES[servable_type])
    if servable_type == "static_method":
        data["files"] = ["*.txt", "mypkg/*.py"]  # the list form of `files`, so both forms get walked
    return data


def valid_projects() -> Iterator[tuple[str, bytes]]:
    """(servable type, manifest) for each base: these must validate, or the cases prove nothing."""
    for kind in SERVABLES:
        yield kind, emit(base(kind))[0].encode()


def cases() -> Iterator[Case]:
    """Every generated case."""
    for family in FAMILIES:
        yield from family()


def dotted(path: FieldPath) -> str:
    """A field path as users write it: `creators[1].orcid`."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _fields(kind: str) -> Iterator[schemawalk.Field]:
    """Fields to mutate for one base: all of them for sklearn, only the servable's for the others."""
    for f in schemawalk.walk(base(kind)):
        if kind == "sklearn" or f.path[0] == "servable" or (kind == "static_method" and f.path[0] == "files"):
            yield f


def _set(data: dict[str, Any], path: FieldPath, value: Any) -> None:
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def _get(data: dict[str, Any], path: FieldPath) -> Any:
    target: Any = data
    for part in path:
        target = target[part]
    return target


def _mutated(kind: str, path: FieldPath, change: Callable[[Any], Any]) -> tuple[bytes, dict[FieldPath, int]]:
    data = base(kind)
    if path:
        _set(data, path, change(_get(data, path)))
    else:
        data = change(data)
    text, where = emit(data)
    return text.encode(), where


def _case(name: str, manifest: bytes, message: str, **kw: Any) -> Case:
    return Case(name=f"gen-{name}", manifest=manifest, message=message, files=PROJECT, **kw)


def wrong_types() -> Iterator[Case]:
    """Every field of every base given JSON types its schema does not allow."""
    for kind in SERVABLES:
        for i, f in enumerate(_fields(kind)):
            path = f.path
            refused = [t for t in SAMPLES if t not in schemawalk.allowed_types(f.declared)]
            # Two refused types per field, rotating, keeps the family at ~300 cases yet uses every type often.
            for wrong in sorted({refused[i % len(refused)], refused[(i + 3) % len(refused)]} if refused else ()):
                manifest, where = _mutated(kind, path, lambda _, w=wrong: copy.deepcopy(SAMPLES[w]))
                message = "manifest version" if path == ("manifest_version",) else ""
                yield _case(f"type-{kind}-{dotted(path)}-{wrong}", manifest, message, line=where[path],
                            field=dotted(path))


def _closed_mappings(kind: str) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    data = base(kind)
    if kind == "sklearn":
        yield (), data
    for f in _fields(kind):
        value = _get(data, f.path)
        if isinstance(value, dict) and schemawalk.closed(f.governing):
            yield f.path, value


def unknown_keys() -> Iterator[Case]:
    """An unexpected key added to every mapping that names its keys."""
    for kind in SERVABLES:
        for path, _ in _closed_mappings(kind):
            manifest, where = _mutated(kind, path, lambda m: {**m, "unexpected_field": 1})
            at = (*path, "unexpected_field")
            yield _case(f"unknown-{kind}-{dotted(path) or 'top'}", manifest, "unknown field 'unexpected_field'",
                        line=where[at], field=dotted(at))


def lookalike(word: str) -> str | None:
    """`word` with its first letter that has a Cyrillic twin swapped for it, or None."""
    for i, ch in enumerate(word):
        if ch in LOOKALIKES:
            return word[:i] + LOOKALIKES[ch] + word[i + 1:]
    return None


def lookalike_keys() -> Iterator[Case]:
    """Each known key spelt with a Cyrillic look-alike letter: an unknown field, with the real one suggested."""
    for kind in SERVABLES:
        for path, mapping in _closed_mappings(kind):
            for key in list(mapping):
                fake = lookalike(key)
                if fake is None or key == "manifest_version":
                    continue
                manifest, where = _mutated(kind, path, lambda m, k=key, f=fake: _renamed(m, k, f))
                # difflib's 0.7 cut-off: one changed letter is close enough only from four letters on.
                message = f"did you mean '{key}'?" if len(key) >= 4 else f"unknown field '{fake}'"
                yield _case(f"lookalike-{kind}-{dotted((*path, key))}", manifest, message,
                            line=where[(*path, fake)], field=dotted((*path, fake)))


def _renamed(mapping: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    return {(new if k == old else k): v for k, v in mapping.items()}


def lookalike_values() -> Iterator[Case]:
    """Look-alike letters inside values whose form is checked."""
    values = {("name",): "does not have the expected form", ("servable", "type"): "did you mean 'sklearn'?",
              ("license",): "is not an SPDX license identifier", ("visible_to", 0): "does not have the expected form",
              ("related", 0, "relation"): "did you mean 'IsDescribedBy'?",
              ("servable", "options", "serialization"): "did you mean 'pickle'?",
              ("servable", "options", "method"): "did you mean 'predict_proba'?"}
    for path, message in values.items():
        manifest, where = _mutated("sklearn", path, lambda v: lookalike(v))
        yield _case(f"lookalike-value-{dotted(path)}", manifest, message, line=where[path], field=dotted(path))


def duplicate_keys() -> Iterator[Case]:
    """The first key of every mapping written a second time at the end of it."""
    for kind in SERVABLES:
        data = base(kind)
        paths = [(), *(f.path for f in _fields(kind) if isinstance(_get(data, f.path), dict) and _get(data, f.path))]
        for path in paths if kind == "sklearn" else [p for p in paths if p]:
            first = next(iter(_get(data, path)))
            dup = DupKey(first)
            manifest, where = _mutated(kind, path, lambda m, d=dup: {**m, d: copy.deepcopy(m[str(d)])})
            yield _case(f"duplicate-{kind}-{dotted(path) or 'top'}", manifest,
                        f"duplicate key '{first}' (first defined on line {where[(*path, first)]})",
                        line=where[(*path, dup)], field=dotted((*path, first)))


def unsafe_tags() -> Iterator[Case]:
    """Python object tags, other non-plain tags and custom tags, on scalars, collections and the root."""
    spots: list[FieldPath] = [("name",), ("creators", 0), ("servable",), ("servable", "options", "model"),
                              ("keywords",)]
    for path in spots:
        for tag in UNSAFE_TAGS:
            manifest, where = _mutated("sklearn", path, lambda _, t=tag: Raw(t))
            yield _case(f"tag-{dotted(path)}-{tag.split()[0]}", manifest, "is not allowed", line=where[path])
    for tag in UNSAFE_TAGS[:4]:
        yield _case(f"tag-document-{tag.split()[0]}", f"--- {tag}\n".encode(), "is not allowed", line=1)


def huge_strings() -> Iterator[Case]:
    """A 100,000-character value in every field whose form or length is limited, and in path options."""
    for kind in SERVABLES:
        for f in _fields(kind):
            path, huge = f.path, "y" * 100_000
            if schemawalk.allowed_types(f.declared) != {"string"}:
                continue
            if path[-1] not in PATH_OPTIONS and all(schemawalk.accepts(n, huge) for n in f.governing):
                continue  # free text, or a pattern with no length limit (a method name): a long value is fine
            manifest, where = _mutated(kind, path, lambda _, h=huge: h)
            yield _case(f"huge-{kind}-{dotted(path)}", manifest, "yyyy", line=where[path], field=dotted(path))


PATH_TRICKS: dict[str, tuple[str, tuple[tuple[Any, ...], ...], str]] = {
    # name: (value, setup actions, expected message)
    "dotdot": ("../outside.pkl", (), "leaves the project through '..'"),
    "dotdot-inner": ("sub/../../outside.pkl", (), "leaves the project through '..'"),
    "absolute": ("/etc/passwd", (), "is an absolute path"),
    "home": ("~/model.pkl", (), "is an absolute path"),
    "drive": ("C:\\model.pkl", (), "is an absolute path"),
    "unc": ("\\\\server\\share\\model.pkl", (), "is an absolute path"),
    "backslash": ("sub\\model.pkl", (), "contains a backslash"),
    "nul": ("model\0.pkl", (), "control character U+0000 (from an escape)"),
    "dev-zero": ("/dev/zero", (), "is an absolute path"),
    "missing": ("nowhere/model.bin", (), "does not exist in the project"),
    "symlink-out": ("link.bin", (("symlink", "link.bin", "/etc/passwd"),), "points outside the project"),
    "symlink-dev": ("link.bin", (("symlink", "link.bin", "/dev/zero"),), "points outside the project"),
    "symlink-parent": ("link.bin", (("symlink", "link.bin", "../elsewhere.pkl"),), "points outside the project"),
    "symlink-dir-out": ("etc/passwd", (("symlink", "etc", "/etc"),), "points outside the project"),
    "symlink-dangling": ("link.bin", (("symlink", "link.bin", "gone.bin"),), "does not exist in the project"),
    "symlink-loop": ("loop.bin", (("symlink", "loop.bin", "loop.bin"),), "Too many levels of symbolic links"),
    "fifo": ("pipe.bin", (("fifo", "pipe.bin"),), "not a regular file"),
    "through-file": ("notes.txt/model.pkl", (), "Not a directory"),
}


def path_tricks() -> Iterator[Case]:
    """Every path option of every base pointed outside the project, at a special file, or nowhere."""
    for kind in SERVABLES:
        for path in (f.path for f in _fields(kind)):
            if path[-1] not in PATH_OPTIONS or (kind != "sklearn" and path[0] != "servable"):
                continue
            for trick, (value, setup, message) in PATH_TRICKS.items():
                if trick == "fifo" and kind == "tensorflow":
                    message = "is not a directory"
                manifest, where = _mutated(kind, path, lambda _, v=value: v)
                yield _case(f"path-{kind}-{dotted(path)}-{trick}", manifest, message, line=where[path],
                            field=dotted(path), setup=setup)
            yield from _kind_mismatch(kind, path)


def _kind_mismatch(kind: str, path: FieldPath) -> Iterator[Case]:
    """A directory where a file is expected, and (TensorFlow) a file where a directory is expected."""
    manifest, where = _mutated(kind, path, lambda _: "adir")
    wants_dir = kind == "tensorflow" and path[-1] == "model"
    setup = () if wants_dir else (("mkdir", "adir"),)
    message = "is not a directory" if wants_dir else "is a directory; a file is expected"
    if kind == "keras" and path[-1] == "model":
        setup, message = (("fifo", "adir"),), "is not a regular file or directory"
    files = {**PROJECT, "adir": b"a file"} if wants_dir else PROJECT
    yield Case(name=f"gen-path-{kind}-{dotted(path)}-kind", manifest=manifest, message=message, files=files,
               line=where[path], field=dotted(path), setup=setup)


def _lines_of(data: dict[str, Any]) -> tuple[list[str], dict[FieldPath, int]]:
    text, where = emit(data)
    return text.split("\n"), where


def byte_tricks() -> Iterator[Case]:
    """Bad bytes, other encodings, BOM, CRLF, lone CR, tabs and control characters at known lines."""
    lines, where = _lines_of(base())
    title, model = where[("title",)], where[("servable", "options", "model")]
    for line in (1, title, model, len(lines) - 1):
        for bad in (b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"):
            raw = [x.encode() for x in lines]
            raw[line - 1] += b" # " + bad
            yield _case(f"bytes-line{line}-{bad.hex()}", b"\n".join(raw), "not valid UTF-8", line=line)
        for ctl in ("\x00", "\x07", "\x1b", "\x7f", "\x0c"):
            mangled = list(lines)
            mangled[line - 1] += " # " + ctl
            yield _case(f"control-line{line}-{ord(ctl):02x}", "\n".join(mangled).encode(),
                        f"control character U+{ord(ctl):04X}", line=line)
    yield from _encodings(lines, title)
    yield from _line_endings(where)
    yield from _tabs(lines, where)


def _encodings(lines: list[str], title: int) -> Iterator[Case]:
    latin = list(lines)
    latin[title - 1] = 'title: "Caf\u00e9"'
    text = "\n".join(latin)
    yield _case("encoding-latin1", text.encode("latin-1"), "not valid UTF-8 (byte 0xe9)", line=title)
    for codec in ("utf-16", "utf-32"):  # with a BOM: 0xff 0xfe is not UTF-8
        yield _case(f"encoding-{codec}", text.encode(codec), "not valid UTF-8", line=1)
    # Without a BOM, ASCII text in UTF-16 is valid UTF-8 full of NULs.
    yield _case("encoding-utf-16-be", "\n".join(lines).encode("utf-16-be"), "control character U+0000", line=1)


def _line_endings(where: dict[FieldPath, int]) -> Iterator[Case]:
    """Line numbers must not change with CRLF, lone CR or a BOM: a wrong type on a known line proves it."""
    bad = base()
    bad["publication_year"] = "soon"
    text, where = emit(bad)
    line = where[("publication_year",)]
    crlf = text.replace("\n", "\r\n").encode()
    variants = {"crlf": crlf, "cr": text.replace("\n", "\r").encode(), "bom": b"\xef\xbb\xbf" + text.encode(),
                "bom-crlf": b"\xef\xbb\xbf" + crlf}
    for name, raw in variants.items():
        yield _case(f"endings-{name}", raw, "'soon' is not an integer", line=line, field="publication_year")


def _tabs(lines: list[str], where: dict[FieldPath, int]) -> Iterator[Case]:
    for path in [("servable", "type"), ("servable", "options", "model"), ("creators", 1, "orcid")]:
        line = where[path]
        mangled = list(lines)
        stripped = mangled[line - 1].lstrip(" -")
        mangled[line - 1] = "\t" + stripped
        yield _case(f"tab-{dotted(path)}", "\n".join(mangled).encode(), "tabs", line=line)


def structure_tricks() -> Iterator[Case]:
    """Empty, comment-only, non-mapping, multi-document, oversized and deeply nested documents."""
    text = emit(base())[0]
    empties = {"empty": b"", "blank": b"\n\n   \n", "comments": b"# just\n# comments\n", "bom-only": b"\xef\xbb\xbf"}
    for name, raw in empties.items():
        yield _case(f"structure-{name}", raw, "manifest is empty", line=1)
    # An empty document after `---` is a null one: it starts on the (empty) line after the marker.
    yield _case("structure-doc-start", b"---\n", "a manifest is a mapping of fields, not empty", line=2)
    yield _case("structure-null", b"~\n", "a manifest is a mapping of fields, not empty", line=1)
    yield _case("structure-doc-end", b"...\n", "YAML syntax error", line=1)
    scalars = {"list": b"- a\n- b\n", "string": b"just a string\n", "number": b"42\n", "bool": b"true\n"}
    for name, raw in scalars.items():
        yield _case(f"structure-{name}", raw, "a manifest is a mapping of fields, not", line=1)
    second = text.count("\n") + 1
    yield _case("structure-two-documents", (text + "---\n" + text).encode(), "more than one YAML document",
                line=second)
    yield _case("structure-yaml-2.0", b"%YAML 2.0\n---\n" + text.encode(), "incompatible YAML document", line=1)
    yield _case("structure-tag-directive", b"%TAG !e! tag:evil.example,2000:\n---\nname: !e!thing x\n",
                "is not allowed", line=3)
    yield from _sizes(text)
    yield from _nesting()


def _sizes(text: str) -> Iterator[Case]:
    limit = 1024 * 1024
    for name, size in {"2mb": 2 * limit, "limit-plus-one": limit + 1}.items():
        padded = text.encode() + b"#" * (size - len(text.encode()))
        yield _case(f"size-{name}", padded, f"file is {size} bytes; manifests are limited to {limit} bytes")
    # Just under the limit and otherwise fine: the one error must still be found on its line.
    bad = base()
    bad["publication_year"] = "soon"
    text, where = emit(bad)
    padded = text.encode() + b"#" * (limit - len(text.encode()) - 1) + b"\n"
    yield _case("size-limit-exactly", padded, "'soon' is not an integer", line=where[("publication_year",)])


def _nesting() -> Iterator[Case]:
    for depth in (65, 10_000, 100_000, 500_000):
        for name, opener, closer in (("flow-seq", "[", "]"), ("flow-map", "{a: ", "}"), ("block-seq", "- ", "")):
            body = opener * depth
            lead = "" if name == "block-seq" else "keywords: "  # `key: - x` is not YAML; a block list starts a line
            yield _case(f"nesting-{name}-{depth}-open", (lead + body + "\n").encode()[:1_000_000],
                        "nesting is deeper than 64 levels", line=1)
            if closer and depth <= 10_000:
                yield _case(f"nesting-{name}-{depth}-closed", f"keywords: {body}x{closer * depth}\n".encode(),
                            "nesting is deeper than 64 levels", line=1)


def alias_tricks() -> Iterator[Case]:
    """Billion laughs (at several places), undefined and recursive aliases, merge keys and alias keys."""
    laughs = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    laughs += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 10)]
    for levels in (6, 10):  # l5 is the first anchor over 100,000 nodes (9**6 lols): it is on line 7
        body = "\n".join(laughs[:levels]) + "\n"
        yield _case(f"alias-laughs-{levels}", ("manifest_version: 1\n" + body).encode(),
                    "aliases expand to more than 100000 nodes", line=7)
    nested = "servable:\n  type: sklearn\n  methods:\n    run:\n      parameters:\n" + "".join(
        f"        {line}\n" for line in laughs)
    yield _case("alias-laughs-nested", nested.encode(), "aliases expand to more than 100000 nodes", line=11)
    yield _case("alias-undefined", b"manifest_version: 1\nname: *nowhere\n", "found undefined alias", line=2)
    yield _case("alias-recursive", b"manifest_version: 1\nloop: &a [*a]\n", "nesting is deeper", line=2)
    yield _case("alias-merge", b"manifest_version: 1\nbase: &b {name: x}\nother:\n  <<: *b\n", "merge keys",
                line=4)
    yield _case("alias-as-key", b"manifest_version: 1\nk: &k name\n*k : x\nname: y\n", "duplicate key 'name'",
                line=4)
    yield _case("alias-complex-key", b"manifest_version: 1\n? [a, b]\n: x\n", "mapping keys must be plain strings",
                line=2)


def usage_errors() -> Iterator[Case]:
    """Command-line mistakes: exit 2 and a message naming the option or command."""
    manifest = emit(base())[0].encode()
    for name, args, message in (
        ("format", ("validate", "--format", "bogus", FILE), "Invalid value for '--format'"),
        ("option", ("validate", "--frobnicate", FILE), "No such option '--frobnicate'"),
        ("missing-value", ("validate", FILE, "--format"), "Option '--format' requires an argument"),
        ("command", ("frobnicate", FILE), "No such command 'frobnicate'"),
    ):
        yield _case(f"usage-{name}", manifest, message, exit_code=2, args=args, file=None)


FAMILIES: list[Callable[[], Iterator[Case]]] = [
    wrong_types, unknown_keys, lookalike_keys, lookalike_values, duplicate_keys, unsafe_tags, huge_strings,
    path_tricks, byte_tricks, structure_tricks, alias_tricks, usage_errors,
]
