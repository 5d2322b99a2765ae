"""The error a provider step fails with: a MistralError whose message the engine shows, carrying its cause."""

from __future__ import annotations

from pulumi_mistral.errors import MistralError

__all__ = ["provider_error"]


def provider_error(message: str, cause: BaseException | None = None) -> MistralError:
    """A MistralError for ``message`` with ``cause`` as its ``__cause__``; built, not raised (the caller raises)."""
    err = MistralError(message)
    err.__cause__ = cause
    return err
