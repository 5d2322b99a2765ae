"""``pulumi_mistral.native``: the native plugin's Python SDK, the generated package ``pulumi_mistral_native``.

The generator names the package after schema.json's ``language.python.packageName`` (the code ``pulumi import``
prints imports it under that name), and this distribution ships it as it is; this module is the same package
under the name this one's users reach for first::

    from pulumi_mistral import native as mistral

    docs = mistral.Connector("docs", description="Docs search", server="https://mcp.example.com/mcp")
"""

import sys

import pulumi_mistral_native

sys.modules[__name__] = pulumi_mistral_native
