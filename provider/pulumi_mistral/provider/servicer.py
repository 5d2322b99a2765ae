"""One-line errors on the dynamic servicer: a MistralError reaches the engine as its message, a bug as its traceback.

The SDK's ``python -m pulumi.dynamic`` servicer answers every exception with
``context.abort(UNKNOWN, traceback.format_exc())`` (its ``_abort_with_traceback``), so the engine printed our
one-line message under a full Python traceback (upstream pulumi/pulumi#10416): about 35 lines per failed
resource. :func:`install` gives that servicer's module, and only it, a ``traceback`` whose ``format_exc`` is
the message alone when the exception being handled is a :class:`~pulumi_mistral.errors.MistralError`; for
anything else (a bug) it is the real traceback. Nothing else in the process changes.

It is installed when :mod:`pulumi_mistral.provider` is imported in the provider process, which is when the
servicer unpickles the first ``__provider`` (errors before that keep their traceback). It installs only when
the servicer looks exactly as read in SDK 3.272 (a module-level ``traceback`` that ``_abort_with_traceback``
calls ``format_exc`` on); another SDK is left alone, and the real-engine tier notices the tracebacks again.
"""

from __future__ import annotations

import sys
import traceback
import types
from typing import Any

from pulumi_mistral.errors import MistralError

__all__ = ["SERVICER_MODULE", "install", "install_in_provider_process"]

SERVICER_MODULE = "pulumi.dynamic.__main__"


class _OneLineErrors:
    """The ``traceback`` module as the servicer's namespace sees it: the real one, but for ``format_exc``."""

    def __init__(self, real: types.ModuleType) -> None:
        self._real = real

    def format_exc(self, *args: Any, **kwargs: Any) -> str:
        exc = sys.exc_info()[1]
        if isinstance(exc, MistralError):
            return exc.message  # one line (a tool-drift block: one line per tool), no secret
        return self._real.format_exc(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _calls_format_exc(wrapper_factory: Any) -> bool:
    """True when ``_abort_with_traceback``'s inner wrapper calls ``traceback.format_exc`` (as in SDK 3.272)."""
    code = getattr(wrapper_factory, "__code__", None)
    inner = [c for c in (code.co_consts if code else ()) if isinstance(c, types.CodeType)]
    return any({"traceback", "format_exc", "abort"} <= set(c.co_names) for c in inner)


def install(namespace: dict[str, Any]) -> bool:
    """Make the servicer whose module globals are ``namespace`` send MistralError messages alone; idempotent.

    Returns whether it is installed (False: not the servicer this was written for, left unchanged).
    """
    current = namespace.get("traceback")
    if isinstance(current, _OneLineErrors):
        return True
    if current is not traceback or "DynamicResourceProviderServicer" not in namespace:
        return False
    if not _calls_format_exc(namespace.get("_abort_with_traceback")):
        return False
    namespace["traceback"] = _OneLineErrors(traceback)
    return True


def install_in_provider_process() -> bool:
    """:func:`install` on the running ``python -m pulumi.dynamic`` servicer, if this process is one."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if main is None or getattr(spec, "name", None) != SERVICER_MODULE:
        return False
    return install(vars(main))
