"""One exception root for the library, and ONE table mapping each error to its exit code and HTTP status.

The CLI turns an error into its exit code, the HTTP server into its status and machine-readable `code`,
and the HTTP client turns that `code` (or, failing that, the status) back into the same class, all with
`ERRORS` below: an error means the same thing, and exits the same way, locally and over HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dlhub_manifest.manifest.diagnostics import Diagnostic


class DLHubManifestError(Exception):
    """Root of every error the library raises on purpose; its message is meant for the user."""

    @property
    def exit_code(self) -> int:
        """The CLI's exit status for this error (from `ERRORS`)."""
        return kind_of(self).exit_code

    def wire_fields(self) -> dict[str, Any]:
        """Fields beyond `code` and `message` that an HTTP error body carries for this error."""
        return {}

    @classmethod
    def from_wire(cls, message: str, _body: dict[str, Any]) -> DLHubManifestError:
        """The error an HTTP client raises for an error body of this class (the inverse of `wire_fields`)."""
        return cls(message)


class UsageError(DLHubManifestError, ValueError):
    """The caller asked for something that cannot be done as asked (bad option, missing path)."""


class TooLarge(UsageError):
    """A request or upload is over the registry's size limit."""


class InputError(DLHubManifestError, ValueError):
    """Input that cannot be used as it is (a path, a model file, a type hint); the message says which and why."""


class InvalidManifestError(DLHubManifestError):
    """A manifest failed validation; carries every diagnostic so nothing is hidden."""

    def __init__(self, diagnostics: list[Diagnostic], message: str | None = None) -> None:
        self.diagnostics = diagnostics
        first = diagnostics[0].format_text() if diagnostics else "invalid manifest"
        more = f" (and {len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
        super().__init__(message or first + more)

    def wire_fields(self) -> dict[str, Any]:
        return {"diagnostics": [d.format_text() for d in self.diagnostics]}

    @classmethod
    def from_wire(cls, message: str, _body: dict[str, Any]) -> DLHubManifestError:
        return cls([], message)


class RegistryError(DLHubManifestError):
    """The registry refused an operation (the request, not the registry, has to change)."""


class NotFoundError(RegistryError):
    """A servable, version, task or blob does not exist (or is not visible to the caller)."""


class ConflictError(RegistryError):
    """An operation would overwrite something immutable, such as a published version."""


class OffsetMismatch(ConflictError):
    """A resumed upload starts at a different byte than the registry holds; `offset` is the right one."""

    def __init__(self, sha256: str, offset: int, message: str | None = None) -> None:
        super().__init__(message or f"blob {sha256[:12]}: the server holds {offset} bytes; resume from there")
        self.offset = offset

    def wire_fields(self) -> dict[str, Any]:
        return {"offset": self.offset}

    @classmethod
    def from_wire(cls, message: str, body: dict[str, Any]) -> DLHubManifestError:
        return cls("", int(body.get("offset", 0)), message)


class DigestMismatch(RegistryError):
    """The received bytes do not hash to the digest they were announced as."""


class QuotaExceeded(RegistryError):
    """The owner would hold more than the registry allows them (storage, or unfinished uploads)."""


class RegistryUnavailable(RegistryError):
    """The registry cannot answer right now (its database stayed locked too long): try again later."""


class AuthUnavailable(RegistryUnavailable):
    """The service that checks tokens cannot be reached right now: neither a valid nor an invalid token."""


class StorageError(RegistryError):
    """The registry's own storage failed (database or disk): a fault of the registry, not of the request."""


class AuthError(DLHubManifestError):
    """Credentials are missing, invalid or not allowed to do this; exit code 4 like globus-cli."""


class Unauthenticated(AuthError):
    """No credentials, or credentials the registry does not accept (HTTP 401)."""


class InternalError(DLHubManifestError):
    """A bug in dlhub-manifest itself, not in the user's input: the message says what broke and asks for a report."""


@dataclass(frozen=True)
class ErrorKind:
    """How one error class crosses each boundary: its wire `code`, HTTP `status` and CLI `exit_code`."""

    cls: type[DLHubManifestError]
    code: str
    status: int
    exit_code: int


# THE table. Most specific class first: the first row the error is an instance of decides. Exit codes are the
# CLI's contract (0 ok, 1 failure, 2 usage error, 4 authentication); server faults are 5xx and exit 1.
ERRORS: tuple[ErrorKind, ...] = (
    ErrorKind(QuotaExceeded, "quota_exceeded", 413, 1),
    ErrorKind(InvalidManifestError, "invalid_document", 422, 1),
    ErrorKind(NotFoundError, "not_found", 404, 1),
    ErrorKind(OffsetMismatch, "offset_mismatch", 409, 1),
    ErrorKind(ConflictError, "conflict", 409, 1),
    ErrorKind(DigestMismatch, "digest_mismatch", 422, 1),
    ErrorKind(AuthUnavailable, "auth_unavailable", 503, 1),
    ErrorKind(RegistryUnavailable, "busy", 503, 1),
    ErrorKind(StorageError, "storage_error", 500, 1),
    ErrorKind(RegistryError, "refused", 400, 1),
    ErrorKind(Unauthenticated, "unauthenticated", 401, 4),
    ErrorKind(AuthError, "forbidden", 403, 4),
    ErrorKind(TooLarge, "too_large", 413, 2),
    ErrorKind(UsageError, "bad_request", 400, 2),
    ErrorKind(InputError, "invalid_input", 422, 1),
    ErrorKind(InternalError, "internal", 500, 1),
    ErrorKind(DLHubManifestError, "error", 400, 1),
)
_BY_CODE = {kind.code: kind for kind in ERRORS}


def kind_of(error: DLHubManifestError) -> ErrorKind:
    """The table's row for `error`: its class or the nearest ancestor listed."""
    return next(kind for kind in ERRORS if isinstance(error, kind.cls))


def kind_for_answer(code: str | None, status: int) -> ErrorKind:
    """The row an HTTP error answer stands for: by its `code`; else the most general row with its status (an
    unknown 409 is a conflict, not a resume offset); else a server fault (5xx: `StorageError`) or a refusal
    (4xx: `RegistryError`)."""
    if code in _BY_CODE:
        return _BY_CODE[code]
    same_status = [kind for kind in ERRORS if kind.status == status]
    return same_status[-1] if same_status else kind_of(StorageError("") if status >= 500 else RegistryError(""))
