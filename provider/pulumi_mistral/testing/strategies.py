"""Hypothesis strategies for valid connector inputs, for property tests of connector stacks (needs hypothesis).

Every value they draw passes :func:`pulumi_mistral.core.spec.validate_inputs`, so a property test can go straight to
the provider or the API::

    from hypothesis import given
    from pulumi_mistral.testing.strategies import connectors

    @given(connectors())
    def test_round_trip(c): ...
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from pulumi_mistral.core import spec

names = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
text = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != "")
urls = st.builds(
    lambda host, path: f"https://{host}.example.com/{path}",
    st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True),
    st.from_regex(r"[a-z0-9/]{0,12}", fullmatch=True),
)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=10))
json_maps = st.dictionaries(st.text(min_size=1, max_size=8), json_leaf, max_size=4)
# No control characters (RFC 9110 field values) and no lone surrogates (not encodable).
header_values = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=12)
header_maps = st.dictionaries(st.from_regex(r"X-[A-Za-z0-9]{1,8}", fullmatch=True), header_values, max_size=3)


@st.composite
def connectors(draw: Any) -> dict[str, Any]:
    """A valid connector's inputs: the required fields, and each optional field half of the time."""
    c: dict[str, Any] = {"name": draw(names), "description": draw(text), "server": draw(urls)}
    if draw(st.booleans()):
        c["icon_url"] = draw(urls)
    if draw(st.booleans()):
        c["visibility"] = draw(st.sampled_from(spec.VISIBILITIES))
    if draw(st.booleans()):
        c["headers"] = draw(header_maps)
    if draw(st.booleans()):
        c["auth_data"] = {"client_id": draw(text), "client_secret": draw(text)}
    if draw(st.booleans()):
        c["system_prompt"] = draw(text)
    if draw(st.booleans()):
        c["connection_config"] = draw(json_maps)
    if draw(st.booleans()):
        c["connection_secrets"] = draw(json_maps)
    return c
