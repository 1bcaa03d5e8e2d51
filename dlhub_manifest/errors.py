"""One exception root for the library; the CLI maps these to exit codes in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dlhub_manifest.manifest.diagnostics import Diagnostic


class DLHubManifestError(Exception):
    """Root of every error the library raises on purpose; its message is meant for the user."""

    exit_code = 1


class UsageError(DLHubManifestError, ValueError):
    """The caller asked for something that cannot be done as asked (bad option, missing path)."""

    exit_code = 2


class InvalidManifestError(DLHubManifestError):
    """A manifest failed validation; carries every diagnostic so nothing is hidden."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        first = diagnostics[0].format_text() if diagnostics else "invalid manifest"
        more = f" (and {len(diagnostics) - 1} more)" if len(diagnostics) > 1 else ""
        super().__init__(first + more)


class RegistryError(DLHubManifestError):
    """The registry refused or could not complete an operation."""


class NotFoundError(RegistryError):
    """A servable, version, task or blob does not exist (or is not visible to the caller)."""


class ConflictError(RegistryError):
    """An operation would overwrite something immutable, such as a published version."""


class AuthError(DLHubManifestError):
    """Credentials are missing, invalid or not allowed to do this; exit code 4 like globus-cli."""

    exit_code = 4


class InternalError(DLHubManifestError):
    """A bug in dlhub-manifest itself, not in the user's input: the message says what broke and asks for a report."""
