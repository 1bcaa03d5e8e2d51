"""Strict YAML loading that keeps the line and column of every node.

Only PyYAML's safe constructors are used; duplicate keys, non-plain tags, multiple documents and
runaway input (size, depth, alias expansion) become diagnostics rather than exceptions. Dates
stay strings because the timestamp resolver is removed.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dlhub_manifest.errors import InvalidManifestError
from dlhub_manifest.manifest.diagnostics import Diagnostic, FieldPath

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000
MAX_INT = 2**63 - 1
MAX_MESSAGE = 500  # characters; messages quote the user's values, which can be a megabyte long
MANIFEST_NAMES = ("dlhub.yaml", "dlhub.yml")

_BASE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null")}


class _Loader(_BASE_LOADER):  # type: ignore[misc]
    """Safe loader without the timestamp resolver, so `2024-01-01` stays a string."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _TAG + "timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass
class Document:
    """A loaded manifest: plain data plus the position of every field path."""

    file: str
    data: Any
    positions: dict[FieldPath, tuple[int, int]] = field(default_factory=dict)
    project_dir: Path = field(default_factory=Path)

    def locate(self, path: FieldPath) -> tuple[int | None, int | None]:
        """Line and column (1-based) of `path`, or of its nearest located ancestor."""
        for end in range(len(path), -1, -1):
            pos = self.positions.get(tuple(path[:end]))
            if pos:
                return pos
        return None, None

    def diagnostic(self, path: FieldPath, message: str, hint: str | None = None) -> Diagnostic:
        """A diagnostic located at `path` in this document."""
        line, col = self.locate(path)
        shown = tuple(clip(part) if isinstance(part, str) else part for part in path)
        return Diagnostic(self.file, line, col, shown, clip(message), hint and clip(hint))


def clip(text: str) -> str:
    """`text` with its middle elided when longer than MAX_MESSAGE, so a huge value cannot flood the report."""
    if len(text) <= MAX_MESSAGE:
        return text
    keep = (MAX_MESSAGE - 5) // 2
    return f"{text[:keep]} ... {text[-keep:]}"


class LoadFailed(InvalidManifestError):
    """Loading stopped at a located problem (returned as a diagnostic by `load_bytes`)."""

    def __init__(self, diag: Diagnostic) -> None:
        super().__init__([diag], diag.message)
        self.diagnostic = diag


def resolve_manifest_path(path: str | Path) -> Path:
    """A manifest file, or the `dlhub.yaml` inside a directory."""
    p = Path(path)
    if p.is_dir():
        for name in MANIFEST_NAMES:
            if (p / name).is_file():
                return p / name
        return p / MANIFEST_NAMES[0]
    return p


def load_file(path: str | Path, display: str | None = None) -> tuple[Document | None, list[Diagnostic]]:
    """Load a manifest file; returns the document (or None) and the problems found while loading."""
    p = resolve_manifest_path(path)
    name = display or str(p)
    raw, problems = read_limited(p, name)
    if raw is None:
        return None, problems
    doc, diags = load_bytes(raw, name)
    if doc is not None:
        doc.project_dir = p.parent.resolve()
    return doc, diags


@dataclass(frozen=True)
class ReadHints:
    """What to tell the user when a file cannot be read: what it should be, and how to fix a missing or big one."""

    what: str = "a dlhub.yaml file"
    noun: str = "a manifest file"
    plural: str = "manifests"
    missing: str = "create one with `dlhub-manifest new` or pass the path of a dlhub.yaml"
    too_big: str = "keep data out of dlhub.yaml; list it under `files`"


def read_limited(p: Path, name: str, hints: ReadHints = ReadHints()) -> tuple[bytes | None, list[Diagnostic]]:
    """The bytes of a regular file of at most MAX_BYTES, or None and why not (hostile paths never hang or flood)."""
    try:
        if p.is_dir():
            raise IsADirectoryError(str(p))
        # Non-blocking open, then fstat: opening a FIFO that nobody writes to would otherwise hang forever.
        with os.fdopen(os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                return None, [Diagnostic(name, None, None, (), "is not a regular file (a FIFO, socket or device)",
                                         f"pass the path of {hints.what}")]
            if st.st_size > MAX_BYTES:
                return None, [Diagnostic(name, None, None, (), f"file is {st.st_size} bytes; {hints.plural} are "
                                         f"limited to {MAX_BYTES} bytes", hints.too_big)]
            return fh.read(MAX_BYTES + 1), []
    except FileNotFoundError:
        return None, [Diagnostic(name, None, None, (), "file not found", hints.missing)]
    except IsADirectoryError:
        return None, [Diagnostic(name, None, None, (), f"is a directory, not {hints.noun}")]
    except OSError as e:
        return None, [Diagnostic(name, None, None, (), f"cannot read file: {e.strerror or e}")]


def load_bytes(raw: bytes, file: str = "dlhub.yaml") -> tuple[Document | None, list[Diagnostic]]:
    """Decode and load manifest bytes (UTF-8, optional BOM)."""
    if len(raw) > MAX_BYTES:
        return None, [Diagnostic(file, None, None, (), f"manifest is larger than {MAX_BYTES} bytes")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        col = e.start - (raw.rfind(b"\n", 0, e.start) + 1) + 1
        return None, [Diagnostic(file, line, col, (), f"not valid UTF-8 (byte 0x{raw[e.start]:02x})",
                                 "save the manifest as UTF-8")]
    return load_text(text, file)


def load_text(text: str, file: str = "dlhub.yaml") -> tuple[Document | None, list[Diagnostic]]:
    """Parse YAML text into a located `Document`, or return why it cannot be."""
    bad = _find_control_char(text)
    if bad is not None:
        return None, [bad_char(file, text, bad)]
    loader = _Loader(text)
    try:
        _check_events(text, file)
        node = loader.get_single_node()
        if node is None:
            return None, [Diagnostic(file, 1, 1, (), "manifest is empty",
                                     "start from `dlhub-manifest new` or the README's example")]
        _check_expansion(node, file)
        builder = _Builder(file, loader)
        data = builder.build(node, (), 0)
        return Document(file, data, builder.positions), []
    except LoadFailed as e:
        return None, [e.diagnostic]
    except yaml.MarkedYAMLError as e:
        return None, [_yaml_diagnostic(file, e, text)]
    except yaml.YAMLError as e:
        return None, [Diagnostic(file, None, None, (), f"YAML error: {e}")]
    except RecursionError:
        return None, [Diagnostic(file, None, None, (), f"nesting is too deep (limit {MAX_DEPTH} levels)")]
    finally:
        loader.dispose()


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _find_control_char(text: str) -> int | None:
    m = _CONTROL.search(text)
    return m.start() if m else None


def bad_char(file: str, text: str, index: int) -> Diagnostic:
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return Diagnostic(file, line, col, (), f"control character U+{ord(text[index]):04X} is not allowed in YAML",
                      "remove it; binary data does not belong in a manifest")


def _yaml_diagnostic(file: str, e: yaml.MarkedYAMLError, text: str) -> Diagnostic:
    mark = e.problem_mark or e.context_mark
    line, col = _clamp(text, mark.line + 1, mark.column + 1) if mark else (None, None)
    problem = e.problem or str(e)
    hint = None
    if "\\t" in problem or (mark is not None and text[mark.index:mark.index + 1] == "\t"):
        hint = "YAML indentation must use spaces, not tabs"
    elif "could not determine a constructor" in problem:
        hint = "only plain YAML (maps, lists, strings, numbers, booleans, null) is allowed"
    elif "but found another document" in problem:
        problem, hint = "more than one YAML document in the file", "keep a single document (remove `---`)"
    elif "maximum nesting depth" in problem:
        # PyYAML >= 6.0.4's scanner has its own depth limit, which can trip before our event-stream check
        return Diagnostic(file, line, col, (), f"nesting is deeper than {MAX_DEPTH} levels", "flatten the structure")
    msg = f"YAML syntax error: {problem}"
    if e.context and e.context not in problem:
        msg = f"YAML syntax error {e.context}{_started(text, e, line)}: {problem}"
    return Diagnostic(file, line, col, (), msg, hint)


def _started(text: str, e: yaml.MarkedYAMLError, line: int | None) -> str:
    """Where the construct being parsed began, when that is another line (an unclosed `[`, `{` or quote)."""
    start = e.context_mark
    if start is None:
        return ""
    begun, column = _clamp(text, start.line + 1, start.column + 1)
    return f" that starts at line {begun}, column {column}" if begun != line else ""


def _clamp(text: str, line: int, col: int) -> tuple[int, int]:
    """Keep a position on a line the file has: at end of input without a final newline libyaml points one past it."""
    lines = text.splitlines()  # control characters are refused first, so these breaks are exactly YAML's
    count = len(lines) + (1 if not lines or text.endswith(_BREAKS) else 0)
    if line <= count:
        return line, col
    last = lines[-1] if count == len(lines) else ""  # after a final newline the last line is empty
    return count, len(last) + 1


_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")


def _check_events(text: str, file: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH and more than MAX_NODES values from the event stream, before composing.

    libyaml parses with its own stack but composes recursively in C: 100,000 `[` overflowed the C stack (SIGSEGV).
    """
    depth = nodes = 0
    for event in yaml.parse(text, Loader=_Loader):
        if isinstance(event, yaml.NodeEvent):
            nodes += 1
            if nodes > MAX_NODES:
                _fail_at(file, event, f"the manifest holds more than {MAX_NODES} values",
                         "keep data out of dlhub.yaml; list data files under `files`")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                _fail_at(file, event, f"nesting is deeper than {MAX_DEPTH} levels", "flatten the structure")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _fail_at(file: str, event: yaml.Event, message: str, hint: str) -> None:
    mark = event.start_mark
    line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
    raise LoadFailed(Diagnostic(file, line, col, (), message, hint))


def _check_expansion(root: yaml.Node, file: str) -> None:
    """Refuse documents whose aliases expand to more than MAX_NODES nodes (billion laughs) or nest too deep."""
    memo: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            total = 1 + sum(memo[id(c)] for c in _children(node))
            memo[key] = total
            if total > MAX_NODES:
                _fail(file, node, f"aliases expand to more than {MAX_NODES} nodes",
                      "a manifest does not need anchors that multiply; write the values out")
            continue
        if key in memo:
            continue
        if depth > MAX_DEPTH:
            _fail(file, node, f"nesting is deeper than {MAX_DEPTH} levels", "flatten the structure")
        stack.append((node, depth, True))
        for child in _children(node):
            if id(child) not in memo:
                stack.append((child, depth + 1, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _fail(file: str, node: yaml.Node, message: str, hint: str | None = None, path: FieldPath = ()) -> None:
    raise LoadFailed(Diagnostic(file, node.start_mark.line + 1, node.start_mark.column + 1, path, clip(message),
                                hint and clip(hint)))


class _Builder:
    """Turns a composed node graph into plain data, recording positions and refusing unsafe tags."""

    def __init__(self, file: str, loader: Any) -> None:
        self.file = file
        self.loader = loader
        self.positions: dict[FieldPath, tuple[int, int]] = {}

    def build(self, node: yaml.Node, path: FieldPath, depth: int) -> Any:
        if path not in self.positions:
            self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if isinstance(node, yaml.SequenceNode):
            self._require_tag(node, _TAG + "seq", path)
            return [self.build(child, (*path, i), depth + 1) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        return _fail(self.file, node, "unsupported YAML node", path=path)  # pragma: no cover

    def _require_tag(self, node: yaml.Node, tag: str, path: FieldPath) -> None:
        if node.tag != tag:
            _fail(self.file, node, f"YAML tag {node.tag!r} is not allowed",
                  "only plain YAML (maps, lists, strings, numbers, booleans, null) is allowed", path)

    def _scalar(self, node: yaml.ScalarNode, path: FieldPath) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self._require_tag(node, _TAG + "str", path)
        try:
            value = self.loader.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError) as e:
            _fail(self.file, node, f"cannot read scalar {node.value!r}: {e}", path=path)
        except LookupError:  # PyYAML indexes tables and strings: `!!bool maybe` (KeyError), `!!int ""` (IndexError)
            _fail(self.file, node, f"cannot read scalar {node.value!r} as {node.tag.removeprefix(_TAG)}", path=path)
        self._check_value(node, value, path)
        return value

    def _check_value(self, node: yaml.ScalarNode, value: Any, path: FieldPath) -> None:
        """Refuse what safe constructors still let through: huge integers, control characters from escapes."""
        # Hex, octal and base-60 integers bypass Python's 4300-digit limit, so str()/repr() of them fails later.
        if isinstance(value, int) and not -MAX_INT <= value <= MAX_INT:
            shown = node.value if len(node.value) <= 24 else node.value[:20] + "..."
            _fail(self.file, node, f"integer {shown} is too large (more than 64 bits)",
                  "no manifest field takes a number this large; quote it if it is meant as text", path)
        # "\x1b[2J" or "\0" written as escapes would reach terminals and registries that show this metadata.
        bad = _find_control_char(value) if isinstance(value, str) else None
        if bad is not None:
            _fail(self.file, node, f"string holds control character U+{ord(value[bad]):04X} (from an escape)",
                  "metadata is plain text: no terminal codes or binary data", path)

    def _mapping(self, node: yaml.MappingNode, path: FieldPath, depth: int) -> dict[str, Any]:
        self._require_tag(node, _TAG + "map", path)
        if any(k.tag == _TAG + "merge" for k, _ in node.value):
            _fail(self.file, node, "YAML merge keys (`<<`) are not supported",
                  "write the keys out; a manifest should read plainly", path)
        out: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                _fail(self.file, key_node, "mapping keys must be plain strings", path=path)
            key = self.build(key_node, path, depth + 1)  # a bad key is reported on the mapping that holds it
            if not isinstance(key, str):
                key = str(key) if isinstance(key, (int, float, bool)) or key is None else key
                if key_node.tag != _TAG + "str":
                    _fail(self.file, key_node, f"key {key_node.value!r} must be a string",
                          f"quote it: \"{key_node.value}\"", path)
            if key in out:
                _fail(self.file, key_node, f"duplicate key {key!r} (first defined on line {first_seen[key]})",
                      "YAML keeps only the last value; remove or rename one of them", (*path, key))
            first_seen[key] = key_node.start_mark.line + 1
            child = (*path, key)
            self.positions[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            out[key] = self.build(value_node, child, depth + 1)
        return out
