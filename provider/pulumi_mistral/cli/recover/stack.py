"""The Pulumi CLI as `recover` drives it: the stack's export and config (in memory), and the refreshes it runs.

Every command runs as ``pulumi --non-interactive ... --stack NAME`` in the current directory (the project),
bounded in time. What comes back with ``--show-secrets`` stays in memory; a failing command is reported as one
line that names the fix, with every known secret value redacted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pulumi_mistral.errors import MistralError, redact

__all__ = ["PulumiStack", "failure_message", "root_urn"]

TIMEOUT_S = 900.0
# (words in the CLI's error, the fix to print); the first match wins.
_KNOWN_FAILURES: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("currently locked", "currently in progress", "update-conflicts"),
        "stack {stack} is locked: a deployment is running, or one was killed. If none is running, run "
        "`pulumi cancel --yes --stack {stack}`, then run recover again",
    ),
    (
        ("no Pulumi.yaml project file found",),
        "no Pulumi project here: run recover in the project's directory (where Pulumi.yaml is)",
    ),
    (("no stack named",), "no stack named '{stack}' in this project: check --stack (`pulumi stack ls`)"),
    (
        ("incorrect passphrase", "PULUMI_CONFIG_PASSPHRASE"),
        "cannot decrypt the secrets of stack {stack}: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) "
        "as for `pulumi up`",
    ),
)


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, Mapping):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [] if value is None else [value]


def failure_message(stack: str, command: str, code: int, output: str, secrets: Iterable[str] = ()) -> str:
    """One line for a failed ``pulumi COMMAND``: the fix when the failure is a known one, else the CLI's first
    error line, with every value of ``secrets`` redacted."""
    for words, fix in _KNOWN_FAILURES:
        if any(w in output for w in words):
            return fix.format(stack=stack)
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    first = next((line for line in lines if line.startswith("error:")), lines[-1] if lines else "no output")
    return redact(f"`pulumi {command}` failed (exit {code}): {first}", secrets)


def root_urn(export: Mapping[str, Any]) -> str | None:
    """The URN of the stack's root resource (``pulumi:pulumi:Stack``), or None in an empty state."""
    deployment = export.get("deployment")
    for res in (deployment.get("resources") or []) if isinstance(deployment, Mapping) else []:
        if isinstance(res, Mapping) and res.get("type") == "pulumi:pulumi:Stack" and not res.get("parent"):
            return str(res.get("urn"))
    return None


class PulumiStack:
    """One stack of the project in the current directory, through the Pulumi CLI found on ``PATH``."""

    def __init__(self, stack: str, *, environ: Mapping[str, str] | None = None, timeout: float = TIMEOUT_S) -> None:
        self.stack = stack
        self.env = dict(os.environ if environ is None else environ)
        self.timeout = timeout
        self.secrets: set[str] = set()  # values never to print; the command adds what it learns
        found = shutil.which("pulumi", path=self.env.get("PATH"))
        if found is None:
            raise MistralError("the Pulumi CLI was not found on PATH: install it, or run recover where `pulumi` runs")
        self.pulumi = found

    def _run(self, *args: str) -> str:
        command = [self.pulumi, "--non-interactive", *args, "--stack", self.stack]
        shown = " ".join(a for a in args if a != "--show-secrets")
        try:
            proc = subprocess.run(
                command,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise MistralError(f"`pulumi {shown}` did not finish within {self.timeout:.0f} s") from None
        if proc.returncode != 0:
            raise MistralError(
                failure_message(self.stack, shown, proc.returncode, proc.stderr + proc.stdout, self.secrets)
            )
        return proc.stdout

    def export(self) -> dict[str, Any]:
        """``pulumi stack export --show-secrets``, parsed; it stays in memory."""
        text = self._run("stack", "export", "--show-secrets")
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise MistralError("`pulumi stack export` did not print JSON") from None
        if not isinstance(data, dict):
            raise MistralError("`pulumi stack export` did not print a JSON object")
        return data

    def config(self) -> dict[str, Any]:
        """The stack config with secrets (``pulumi config --json --show-secrets``), values by key; the secret
        values join :attr:`secrets`."""
        try:
            data = json.loads(self._run("config", "--json", "--show-secrets") or "{}")
        except json.JSONDecodeError:
            raise MistralError("`pulumi config --json` did not print JSON") from None
        values: dict[str, Any] = {}
        for key, entry in (data if isinstance(data, dict) else {}).items():
            value = entry.get("objectValue", entry.get("value")) if isinstance(entry, Mapping) else entry
            if isinstance(entry, Mapping) and entry.get("secret"):
                self.secrets |= {str(v) for v in _leaves(value)}
            values[key] = value
        return values

    def refresh(self, targets: Iterable[str], *, clear_pending_creates: bool) -> None:
        """``pulumi refresh`` of ``targets`` only; it takes the stack's lock, and fails when another holds it.

        With ``clear_pending_creates`` the CLI first removes every pending create from the state.
        """
        flag = "--clear-pending-creates" if clear_pending_creates else "--skip-pending-creates"
        args: Sequence[str] = [a for urn in dict.fromkeys(targets) for a in ("--target", urn)]
        self._run("refresh", "--yes", "--skip-preview", flag, *args)
