"""Lean imports: the provider process never loads pulumi_policy, and the pure rules load neither it nor pulumi."""

from __future__ import annotations

import subprocess
import sys


def loaded_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint(' '.join(sorted(m.split('.')[0] for m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return set(out.stdout.split())


def test_the_provider_never_imports_pulumi_policy() -> None:
    assert "pulumi_policy" not in loaded_after(
        "import pulumi_mistral.provider, pulumi_mistral.provider.resource, pulumi_mistral.declarations"
    )


def test_the_rules_and_their_config_import_neither_pulumi_nor_pulumi_policy() -> None:
    loaded = loaded_after("import pulumi_mistral.policy; from pulumi_mistral.policy import config, rules, view")
    assert not {"pulumi", "pulumi_policy", "httpx", "fastapi"} & loaded
