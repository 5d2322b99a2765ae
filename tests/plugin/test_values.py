"""The native door's values: camelCase PropertyValue maps in, plain snake_case out, and back (no engine needed)."""

from __future__ import annotations

import pytest
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.runtime.rpc import UNKNOWN

from pulumi_mistral.plugin import values


def test_names_go_between_the_schema_and_the_lifecycle() -> None:
    pairs = {
        "icon_url": "iconUrl",
        "connection_secrets": "connectionSecrets",
        "name": "name",
        "tools_fingerprint": "toolsFingerprint",
        "name_prefix": "namePrefix",
        "client_id": "clientId",
    }
    for snake, camel in pairs.items():
        assert values.camel(snake) == camel and values.snake(camel) == snake


def test_from_values_unwraps_secrets_and_unknowns_and_keeps_user_keys() -> None:
    props = {
        "iconUrl": PropertyValue("https://i.example.com/a.png"),
        "headers": PropertyValue({"X-Api-Key": PropertyValue("k"), "xTeamName": PropertyValue("t")}, is_secret=True),
        "authData": PropertyValue(
            {"clientId": PropertyValue("app"), "clientSecret": PropertyValue("s", is_secret=True)}, is_secret=True
        ),
        "connectionConfig": PropertyValue(
            {"maxRetries": PropertyValue(3.0), "tags": PropertyValue([PropertyValue("a"), PropertyValue("b")])}
        ),
        "server": PropertyValue.computed(),
        "description": PropertyValue(UNKNOWN),
    }
    plain = values.from_values(props)
    assert plain == {
        "icon_url": "https://i.example.com/a.png",
        "headers": {"X-Api-Key": "k", "xTeamName": "t"},  # header names are the user's: never renamed
        "auth_data": {"client_id": "app", "client_secret": "s"},  # a schema type: its fields are renamed
        "connection_config": {"maxRetries": 3.0, "tags": ["a", "b"]},
        "server": UNKNOWN,
        "description": UNKNOWN,
    }
    assert values.is_unknown(plain["server"]) and not values.is_unknown("a string")


def test_to_values_marks_the_named_secrets_and_sends_numbers_as_floats() -> None:
    out = values.to_values(
        {
            "headers": {"X-Api-Key": "k"},
            "auth_data": {"client_id": "a", "client_secret": "s"},
            "connection_config": {"retries": 2},
            "adopt": True,
            "icon_url": None,
        },
        secret={"headers", "auth_data"},
    )
    assert set(out) == {"headers", "authData", "connectionConfig", "adopt"}  # None: an unset property
    assert out["headers"].is_secret and out["authData"].is_secret and not out["connectionConfig"].is_secret
    assert set(out["authData"].value) == {"clientId", "clientSecret"}
    assert out["connectionConfig"].value["retries"].value == 2.0  # the engine's numbers are floats
    assert values.from_values(out) == {
        "headers": {"X-Api-Key": "k"},
        "auth_data": {"client_id": "a", "client_secret": "s"},
        "connection_config": {"retries": 2.0},
        "adopt": True,
    }


def test_an_unknown_output_goes_out_as_the_engines_sentinel() -> None:
    # The SDK's own PropertyValue.computed() cannot be marshalled (pulumi 3.272): the sentinel string is the way.
    with pytest.raises(ValueError, match="Unsupported value type"):
        PropertyValue.computed().marshal()
    sent = values.to_values({"connector_id": UNKNOWN})["connectorId"].marshal()
    assert sent.string_value == UNKNOWN


def test_to_values_refuses_what_the_engine_cannot_carry() -> None:
    with pytest.raises(TypeError, match="cannot send a object"):
        values.to_values({"description": object()})


def test_the_shipped_sdk_declares_no_plugin() -> None:
    """pulumi_mistral_native is installed with every copy of this package: a pulumi-plugin.json at its top would
    make every stack (dynamic ones included) declare the mistral plugin before its program runs, which costs a
    download attempt per command, or a warning with an activated virtualenv (plugin/sdkgen.py leaves it out)."""
    from pulumi_mistral.plugin import sdkgen

    assert (sdkgen.NATIVE / "__init__.py").exists()
    assert not (sdkgen.NATIVE / "pulumi-plugin.json").exists()
