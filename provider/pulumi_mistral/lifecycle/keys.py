"""The API key's errors: no key, a malformed key, a refused key, each naming where the key came from and the fix.

The client's own words name ``MISTRAL_API_KEY`` (its only source); a provider also reads stack config, which
wins, so these messages name the source the settings actually used. The fix never puts the key on a command
line: ``pulumi config set --secret mistral:apiKey`` reads it from stdin when no value is given.
"""

from __future__ import annotations

from pulumi_mistral.errors import AuthenticationError, ConfigurationError
from pulumi_mistral.lifecycle.state import CONFIG_KEY_SOURCE, ENV_KEY_SOURCE, Settings

__all__ = ["FIX", "checked_key", "refused_key"]

FIX = (
    "run `pulumi config set --secret mistral:apiKey` and type or pipe the key on stdin (not as an argument: "
    "it would stay in the shell history and the process list)"
)


def checked_key(settings: Settings) -> str:
    """The key the client will send; a missing or malformed one raises a ConfigurationError naming its source."""
    key = settings.api_key
    if not key or not key.strip():
        raise ConfigurationError(
            "no Mistral API key: neither stack config mistral:apiKey nor the MISTRAL_API_KEY environment variable "
            f"is set; fix: {FIX}"
        )
    from pulumi_mistral.client._http import resolve_api_key

    try:
        return resolve_api_key(key)
    except ConfigurationError:
        raise ConfigurationError(
            f"the API key from {settings.api_key_source} contains spaces, control or non-ASCII characters "
            f"(a stray quote or line break?); fix: {_fix_for(settings)}"
        ) from None


def refused_key(settings: Settings, exc: AuthenticationError) -> AuthenticationError | None:
    """For a 401 (the key is wrong), an error naming the key's source and the fix; None for anything else."""
    if exc.status_code != 401:
        return None  # 403: the key is valid but not allowed to do this; the client's words say so
    server = settings.server_url or "the default server (https://api.mistral.ai)"
    rid = f" [request id: {exc.request_id}]" if exc.request_id else ""
    return AuthenticationError(
        f"the API key from {settings.api_key_source or 'nowhere'} was refused by {server} (401); fix: "
        f"{_fix_for(settings)}{rid}",
        status_code=401,
        request_id=exc.request_id,
    )


def _fix_for(settings: Settings) -> str:
    source = settings.api_key_source
    if source == CONFIG_KEY_SOURCE:
        return f"set the right key: {FIX}"
    if source in (None, ENV_KEY_SOURCE):
        return f"set the right key in MISTRAL_API_KEY, or store it in the stack: {FIX}"
    # A source a door names itself (the native door: an explicit provider's apiKey input).
    return (
        f"give {source} the right key, from a secret (`pulumi config set --secret <name>` reads it from stdin; "
        "the program passes it with require_secret)"
    )
