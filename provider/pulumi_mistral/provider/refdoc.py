"""docs/reference.md, rendered purely from the package schema dict (`python -m pulumi_mistral.provider.refdoc`)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pulumi_mistral.core.names import snake

COMMAND = "python -m pulumi_mistral.provider.refdoc > docs/reference.md"
_TYPE_REF = "#/types/"
_PRIMITIVE_REFS = {
    "pulumi.json#/Any": "any",
    "pulumi.json#/Json": "JSON",
    "pulumi.json#/Archive": "archive",
    "pulumi.json#/Asset": "asset",
}

Schema = Mapping[str, Any]


def short(token: str) -> str:
    """``mistral:index:AuthData`` -> ``AuthData``."""
    return token.rsplit(":", 1)[-1]


def anchor(heading: str) -> str:
    """The anchor GitHub gives a heading (lower case, punctuation dropped, spaces as dashes)."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")


def cell(text: Any) -> str:
    """A value as one Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def type_of(prop: Mapping[str, Any]) -> str:
    """A property's type in words, with a link for a named type."""
    ref = prop.get("$ref")
    if isinstance(ref, str):
        if ref.startswith(_TYPE_REF):
            name = short(ref[len(_TYPE_REF) :])
            return f"[{name}](#{anchor(name)})"
        return _PRIMITIVE_REFS.get(ref, ref)
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {type_of(prop.get('items', {}))}"
    if kind == "object" and "additionalProperties" in prop:
        return f"map of {type_of(prop['additionalProperties'])}"
    return str(kind)


def _describe(prop: Mapping[str, Any]) -> str:
    return cell(prop.get("description", "").strip())


def _type_cell(prop: Mapping[str, Any]) -> str:
    return type_of(prop) + (" (replace on change)" if prop.get("replaceOnChanges") else "")


def _yes(flag: Any) -> str:
    return "yes" if flag else ""


def property_table(props: Mapping[str, Any], required: list[str] | tuple[str, ...], required_label: str) -> list[str]:
    """One row per property: schema name, Python name, type, required, secret, description."""
    lines = [
        f"| property | Python | type | {required_label} | secret | description |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, prop in props.items():
        lines.append(
            f"| `{name}` | `{snake(name)}` | {_type_cell(prop)} | {_yes(name in required)} | "
            f"{_yes(prop.get('secret'))} | {_describe(prop)} |"
        )
    return lines


def config_table(variables: Mapping[str, Any], package: str) -> list[str]:
    """Provider settings: stack config key, the explicit provider's Python argument, default, environment."""
    lines = [
        "| stack config | Python (explicit provider) | type | default | environment | secret | description |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, prop in variables.items():
        default = json.dumps(prop["default"]) if "default" in prop else ""
        env = ", ".join(f"`{v}`" for v in prop.get("defaultInfo", {}).get("environment", []))
        lines.append(
            f"| `{package}:{name}` | `{snake(name)}` | {type_of(prop)} | {default} | {env} | "
            f"{_yes(prop.get('secret'))} | {_describe(prop)} |"
        )
    return lines


def _config(schema: Schema) -> list[str]:
    package = schema["name"]
    variables = schema.get("config", {}).get("variables", {})
    provider = schema.get("provider", {})
    out = [
        "## Provider configuration",
        "",
        provider.get("description", ""),
        "",
        f"The default provider reads stack config (`{package}:<key>`), else the environment variable. An explicit "
        f"provider (`pulumi:providers:{package}`) reads its inputs only, with the same names.",
        "",
        *config_table(variables, package),
        "",
    ]
    inputs = provider.get("inputProperties", {})
    if inputs and inputs != variables:
        out += [
            f"### Inputs of an explicit provider (`pulumi:providers:{package}`)",
            "",
            *property_table(inputs, provider.get("requiredInputs", []), "required"),
            "",
        ]
    return out


def _resource(token: str, resource: Mapping[str, Any]) -> list[str]:
    inputs = resource.get("inputProperties", {})
    outputs = resource.get("properties", {})
    required_outputs = resource.get("required", [])
    out = [
        f"## Resource `{token}`",
        "",
        resource.get("description", ""),
        "",
        "### Inputs",
        "",
        *property_table(inputs, resource.get("requiredInputs", []), "required"),
        "",
        "### Outputs",
        "",
    ]
    echoed = [n for n in inputs if n in outputs and outputs[n] == inputs[n]]
    if echoed:
        always = ", ".join(f"`{n}`" for n in echoed if n in required_outputs)
        out += [
            "Every input above is also an output (its live value), with the same type and secrecy"
            + (f"; always set: {always}." if always else "."),
            "",
        ]
    rest = {n: p for n, p in outputs.items() if n not in echoed}
    if rest:
        out += [
            "The outputs computed by the provider:" if echoed else "",
            "",
            *property_table(rest, required_outputs, "always set"),
            "",
        ]
    return out


def _function(token: str, function: Mapping[str, Any]) -> list[str]:
    name = short(token)
    python = snake(name)
    inputs = function.get("inputs", {})
    outputs = function.get("outputs", {})
    return [
        f"### `{token}`",
        "",
        function.get("description", ""),
        "",
        f"Python: `{python}(...)` (plain values) and `{python}_output(...)` (outputs).",
        "",
        "Inputs:",
        "",
        *property_table(inputs.get("properties", {}), inputs.get("required", []), "required"),
        "",
        "Outputs:",
        "",
        *property_table(outputs.get("properties", {}), outputs.get("required", []), "always set"),
        "",
    ]


def _type(token: str, spec: Mapping[str, Any]) -> list[str]:
    out = [f"### {short(token)}", "", f"`{token}`: {spec.get('description', '')}", ""]
    if "enum" in spec:
        out += ["| value | name | description |", "| --- | --- | --- |"]
        out += [f"| `{e['value']}` | `{e.get('name', '')}` | {cell(e.get('description', ''))} |" for e in spec["enum"]]
    else:
        out += property_table(spec.get("properties", {}), spec.get("required", []), "required")
    return [*out, ""]


def render(schema: Schema) -> str:
    """The reference page for ``schema`` (a Pulumi package schema as a dict)."""
    resources, functions, types = (schema.get(k, {}) for k in ("resources", "functions", "types"))
    contents = ["- [Provider configuration](#provider-configuration)"]
    contents += [f"- [Resource `{t}`](#{anchor(f'Resource {t}')})" for t in resources]
    contents += ["- [Functions](#functions): " + ", ".join(f"`{short(t)}`" for t in functions)] if functions else []
    contents += ["- [Types](#types): " + ", ".join(f"`{short(t)}`" for t in types)] if types else []
    lines = [
        f"# API reference: the `{schema['name']}` package",
        "",
        f"<!-- Generated from schema.json by `{COMMAND}`. Do not edit: a test fails when this page and the "
        "schema disagree. -->",
        "",
        f"{schema.get('description', '')} Package `{schema['name']}` version {schema.get('version', '')}.",
        "",
        "Names are the schema's (camelCase), as the native resource and Pulumi YAML spell them; the Python SDK "
        "(`pulumi_mistral.native`) and the dynamic `pulumi_mistral.Connector` use the snake_case form in the "
        "Python column.",
        "",
        *contents,
        "",
        *_config(schema),
    ]
    for token, resource in resources.items():
        lines += _resource(token, resource)
    if functions:
        lines += ["## Functions", ""]
        for token, function in functions.items():
            lines += _function(token, function)
    if types:
        lines += ["## Types", ""]
        for token, spec in types.items():
            lines += _type(token, spec)
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m pulumi_mistral.provider.refdoc [SCHEMA.json] > docs/reference.md``: regenerate the page after
    changing the schema. Without an argument, the generated schema (a test keeps schema.json equal to it)."""
    args = sys.argv[1:] if argv is None else argv
    if args:
        schema = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    else:
        from pulumi_mistral.provider import schema_gen

        schema = schema_gen.generate()
    sys.stdout.write(render(schema))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
