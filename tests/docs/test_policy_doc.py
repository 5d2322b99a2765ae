"""docs/policy.md and examples/policy-pack stay true: every rule and default documented, the CI step's flags exist,
the pack is complete and points at the repository's virtualenv."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import yaml

from pulumi_mistral._version import __version__
from pulumi_mistral.cli import build_parser
from pulumi_mistral.policy.config import SCHEMAS
from pulumi_mistral.policy.rules import RULES

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
PACK = ROOT / "examples" / "policy-pack"


def test_every_rule_is_documented_with_its_defaults_and_where_it_runs() -> None:
    rows = {
        line.split("|")[1].strip().split()[0].strip("`"): line
        for line in DOC.splitlines()
        if line.startswith("| `connector-")
    }
    assert list(rows) == [r.id for r in RULES]
    for rule in RULES:
        row = rows[rule.id]
        assert row.rstrip(" |").endswith("yes" if rule.live else "no"), rule.id
        assert ("(stack)" in row) == (rule.scope == "stack"), rule.id
        for name, schema in SCHEMAS[rule.id].items():
            default = schema["default"]
            shown = (
                json.dumps(default)
                if isinstance(default, list)
                else str(default).lower()
                if isinstance(default, bool)
                else str(default)
            )
            assert f"{name}: {shown}" in row, (rule.id, name)


def test_the_ci_step_uses_only_existing_flags() -> None:
    block = DOC.split("```yaml\n", 1)[1].split("```", 1)[0]
    steps = yaml.safe_load(block)
    commands = [
        shlex.split(line.split(" #", 1)[0].strip().replace('"$STACK"', "prod"))
        for step in steps
        for line in step.get("run", "").splitlines()
        if line.strip().startswith(("pulumi ", "pulumi-mistral "))
    ]
    audits = [c[1:] for c in commands if c[0] == "pulumi-mistral"]
    assert len(audits) == 2
    for args in audits:
        parsed = build_parser(args).parse_args(args)  # an unknown flag exits here
        assert parsed.command == "audit" and parsed.config == "policy-config.json"
    (preview,) = [c for c in commands if c[:2] == ["pulumi", "preview"]]
    assert {"--policy-pack", "--policy-pack-config"} <= set(preview)


def test_the_example_pack_is_complete_and_uses_the_repository_virtualenv() -> None:
    meta = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    assert meta["runtime"]["name"] == "python" and meta["version"] == __version__
    assert (PACK / meta["runtime"]["options"]["virtualenv"]).resolve() == (ROOT / ".venv").resolve()
    requirements = (PACK / "requirements.txt").read_text()
    assert "pulumi-mistral-connectors[policy]" in requirements  # named in the comment that says how it resolves
    assert [line for line in requirements.splitlines() if line and not line.startswith("#")] == ["../..[policy]"]
    main = (PACK / "__main__.py").read_text()
    compile(main, "__main__.py", "exec")
    assert len([line for line in main.splitlines() if line and not line.startswith(('"""', "#"))]) <= 3
    assert "outside the repository" in (PACK / "README.md").read_text().lower()


def test_the_readme_links_the_policy_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/policy.md" in readme and re.search(r"pulumi-mistral audit", readme)
