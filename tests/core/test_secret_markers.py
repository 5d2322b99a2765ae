"""The one secret-marker helper: Pulumi's constants, stripping the wire form, revealing the state form."""

from __future__ import annotations

import json

from pulumi.runtime import rpc

from pulumi_mistral.core import secret_markers as markers

UNREADABLE = object()


def test_constants_are_pulumis() -> None:
    assert rpc._special_sig_key == markers.SIG_KEY
    assert rpc._special_secret_sig == markers.SECRET_SIG
    assert markers.is_secret(rpc.wrap_rpc_secret("x")) and not markers.is_secret({"value": "x"})


def test_strip_removes_nested_wire_markers_and_keeps_everything_else() -> None:
    value = {"headers": rpc.wrap_rpc_secret({"X-Key": rpc.wrap_rpc_secret("k")}), "tags": ("a", 2), "n": None}
    assert markers.strip(value) == {"headers": {"X-Key": "k"}, "tags": ["a", 2], "n": None}
    assert markers.strip("plain") == "plain"


def test_reveal_decodes_plaintext_unwraps_values_and_marks_ciphertext() -> None:
    state = {
        "shown": {markers.SIG_KEY: markers.SECRET_SIG, "plaintext": json.dumps({"X-Key": "v"})},
        "raw": {markers.SIG_KEY: markers.SECRET_SIG, "plaintext": "not json"},
        "wire": [{markers.SIG_KEY: markers.SECRET_SIG, "value": 3}],
        "hidden": {markers.SIG_KEY: markers.SECRET_SIG, "ciphertext": "AAAA"},
    }
    out = markers.reveal(state, UNREADABLE)
    assert out["shown"] == {"X-Key": "v"} and out["raw"] == "not json" and out["wire"] == [3]
    assert out["hidden"] is UNREADABLE
