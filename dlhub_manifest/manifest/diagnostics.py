"""`Diagnostic`: one problem in one file, located by line, column and field path, with a hint."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]
FieldPath = tuple[str | int, ...]


def format_path(path: FieldPath) -> str:
    """Render a field path the way users write it: `creators[0].orcid`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A problem found in a manifest; problems are data, rendered later by a reporter."""

    file: str
    line: int | None
    column: int | None
    path: FieldPath = field(default=())
    message: str = ""
    hint: str | None = None
    severity: Severity = "error"

    @property
    def field(self) -> str:
        """The dotted field path, e.g. `servable.options.model`."""
        return format_path(self.path)

    def location(self) -> str:
        """`file:line:col` as far as it is known."""
        loc = self.file
        if self.line is not None:
            loc += f":{self.line}"
            if self.column is not None:
                loc += f":{self.column}"
        return loc

    def format_text(self) -> str:
        """Compiler-style single line: `dlhub.yaml:12:5: field: message (hint: ...)`."""
        text = f"{self.location()}: "
        if self.path:
            text += f"{self.field}: "
        text += self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, with the field path rendered as a string too."""
        data = asdict(self)
        data["path"] = list(self.path)
        data["field"] = self.field
        return data


@dataclass
class Report:
    """Every diagnostic for one manifest file; valid when it holds no errors."""

    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def sorted(self) -> list[Diagnostic]:
        """Diagnostics in reading order (by line, then column); unlocated ones first."""
        return sorted(self.diagnostics, key=lambda d: (d.line or 0, d.column or 0, d.field, d.message))
