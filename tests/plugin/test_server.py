"""The native plugin's servicer: our errors as one line, the SDK's own tracebacks kept for bugs."""

from __future__ import annotations

from pulumi_mistral.errors import MistralError, NotFoundError
from pulumi_mistral.plugin.server import _our_error


def test_our_error_is_found_behind_the_servicers_wrapping() -> None:
    ours = NotFoundError("connector 'x' not found in this workspace: check the id", status_code=404)
    try:
        try:
            raise ours
        except Exception as exc:  # what the SDK's servicer does: a new exception raised while handling ours
            raise Exception(f"{exc}:\n  File ...") from None
    except Exception as wrapped:
        assert _our_error(wrapped) is ours


def test_a_bug_is_not_taken_for_ours() -> None:
    try:
        try:
            {}["missing"]
        except KeyError as exc:
            raise Exception(f"{exc}:\n  File ...") from None
    except Exception as wrapped:
        assert _our_error(wrapped) is None
    assert isinstance(_our_error(MistralError("plain")), MistralError)
