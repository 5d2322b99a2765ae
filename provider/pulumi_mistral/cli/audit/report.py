"""The audit report and the run that makes it: the live rules over every connector a key can list."""

from __future__ import annotations

import fnmatch
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pulumi_mistral.cli.drift.progress import Progress
from pulumi_mistral.client.connectors import MAX_PAGE_SIZE
from pulumi_mistral.policy.config import RuleConfig
from pulumi_mistral.policy.rules import RULES, Rule
from pulumi_mistral.policy.view import live_view

if TYPE_CHECKING:  # pragma: no cover
    from pulumi_mistral.client import ConnectorsClient

__all__ = ["EXIT_CLEAN", "EXIT_ERROR", "EXIT_VIOLATIONS", "AuditFinding", "AuditReport", "applied_rules", "audit"]

EXIT_CLEAN, EXIT_ERROR, EXIT_VIOLATIONS = 0, 1, 2
BLOCKING = frozenset({"mandatory", "remediate"})  # remediate acts as mandatory: the audit changes nothing


@dataclass(frozen=True)
class AuditFinding:
    """One rule one live connector breaks, at the rule's configured level."""

    rule: str
    level: str
    connector: str
    connector_id: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "level": self.level,
            "connector": self.connector,
            "connector_id": self.connector_id,
            "message": self.message,
        }


@dataclass
class AuditReport:
    """What one audit found; ``exit_code`` is 2 when a mandatory rule is broken, else 0."""

    source: str
    rules: list[Rule] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # rules a live connector cannot show
    findings: list[AuditFinding] = field(default_factory=list)
    connectors: int = 0
    ignored: int = 0
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def blocking(self) -> list[AuditFinding]:
        return [f for f in self.findings if f.level in BLOCKING]

    @property
    def exit_code(self) -> int:
        return EXIT_VIOLATIONS if self.blocking else EXIT_CLEAN


def applied_rules(config: Mapping[str, RuleConfig]) -> tuple[list[Rule], list[str]]:
    """The rules the audit applies (live, not disabled), and the ids of the enabled ones it cannot apply."""
    enabled = [r for r in RULES if config[r.id].level != "disabled"]
    return [r for r in enabled if r.live], [r.id for r in enabled if not r.live]


def audit(
    client: ConnectorsClient,
    config: Mapping[str, RuleConfig],
    *,
    source: str,
    ignore: Sequence[str] = (),
    progress: Progress | None = None,
) -> AuditReport:
    """Apply the live rules to every connector the client's key can list (pages of ``MAX_PAGE_SIZE``, no
    secrets fetched). Findings are sorted by connector, then rule."""
    bar = progress or Progress(sys.stderr, False)
    rules, skipped = applied_rules(config)
    report = AuditReport(source=source, rules=rules, skipped=skipped)
    for connector in client.iter_connectors(page_size=MAX_PAGE_SIZE):
        report.connectors += 1
        bar.update("audit: listing connectors", report.connectors)
        if any(fnmatch.fnmatchcase(connector.name, pattern) for pattern in ignore):
            report.ignored += 1
            continue
        view = live_view(connector.model_dump(mode="json"))
        for rule in rules:
            rule_config = config[rule.id]
            report.findings += [
                AuditFinding(
                    rule=rule.id,
                    level=rule_config.level,
                    connector=connector.name,
                    connector_id=connector.id,
                    message=message,
                )
                for message in rule.check(view, rule_config.params)
            ]
    bar.update("audit: listing connectors", report.connectors, force=True)
    bar.done()
    order = {r.id: i for i, r in enumerate(RULES)}
    report.findings.sort(key=lambda f: (f.connector, order[f.rule]))
    return report
