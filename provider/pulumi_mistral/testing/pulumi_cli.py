"""CliStack: a Pulumi project deployed by the real Pulumi CLI on a private file backend (tests, the demo).

The first-class way to test a connector stack is the real engine: ``pulumi up``, ``preview``, ``refresh`` and
``destroy`` exactly as CI runs them. ``CliStack`` gives each stack a workspace of its own in a temporary
directory, so nothing touches the user's ``~/.pulumi`` or Pulumi Cloud:

* a file backend (``PULUMI_BACKEND_URL=file://...``), a random passphrase for the secrets provider,
  ``PULUMI_HOME`` inside the workspace, no update check, no plugin downloads;
* a copy of the project whose ``Pulumi.yaml`` points ``runtime.options.virtualenv`` at this interpreter's
  virtualenv (so ``pulumi_mistral`` is importable by the program and by the provider process);
* stack config set with ``pulumi config set``; secret values go through stdin, never the command line.

    from pulumi_mistral.testing.pulumi_cli import CliStack

    with CliStack("examples/quickstart", config={"mistral:apiKey": key, "mistral:serverUrl": url}) as stack:
        stack.up()
        assert stack.preview("--expect-no-changes").returncode == 0
        drift = stack.refresh("--preview-only", "--expect-no-changes", check=False)
        print(drift.returncode, drift.stdout)       # 0: no drift; 7: changes found (this CLI's code)
        stack.destroy()

``automation()`` returns the same stack as a ``pulumi.automation.Stack`` for the Automation API
(``up(on_output=...)`` with summaries). The CLI is found by :func:`find_pulumi`.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pulumi_mistral.testing.processes import spawn, stop_process
from pulumi_mistral.testing.projects import point_at_virtualenv, project_name

if TYPE_CHECKING:  # pragma: no cover
    from pulumi import automation

__all__ = ["EXIT_EXPECTED_NO_CHANGES", "CliError", "CliResult", "CliStack", "find_pulumi"]

# The exit code of `--expect-no-changes` when changes were found (observed on the pinned CLI; older CLIs: 255).
EXIT_EXPECTED_NO_CHANGES = 7
DEFAULT_SECRET_KEYS: tuple[str, ...] = ("mistral:apiKey",)
DEFAULT_TIMEOUT_S = 600.0
PULUMI_ENV = "PULUMI_MISTRAL_PULUMI"  # an explicit CLI to use


def find_pulumi() -> Path | None:
    """The Pulumi CLI: ``$PULUMI_MISTRAL_PULUMI``, else the one in this interpreter's virtualenv (where
    ``make install`` links it), else ``pulumi`` on ``PATH``; None when there is none."""
    explicit = os.environ.get(PULUMI_ENV)
    if explicit:
        return Path(explicit)
    beside = Path(sys.prefix) / "bin" / "pulumi"
    if beside.exists():
        return beside
    found = shutil.which("pulumi")
    return Path(found) if found else None


@dataclass(frozen=True)
class CliResult:
    """One CLI command: its arguments (never a secret: those go through stdin), exit code and output."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class CliError(RuntimeError):
    """A CLI command exited non-zero; the message holds the command and the end of its output."""

    def __init__(self, result: CliResult) -> None:
        tail = "\n".join(result.output.strip().splitlines()[-25:])
        super().__init__(f"`pulumi {' '.join(result.args)}` exited with {result.returncode}:\n{tail}")
        self.result = result


class CliStack:
    """A project's stack on a private file backend, driven by the real Pulumi CLI. See the module docstring.

    ``project`` is a directory with ``Pulumi.yaml``; it is copied into the workspace (``copy=False`` uses it
    in place, and then leaves its ``Pulumi.yaml`` alone). ``config`` keys without a namespace get the
    project's; ``secret_keys`` lists the secret ones. ``env`` adds environment variables for every command (a
    value of None removes the variable, e.g. ``{"VIRTUAL_ENV": None}``).
    """

    def __init__(
        self,
        project: str | os.PathLike[str],
        *,
        stack: str = "dev",
        config: Mapping[str, Any] | None = None,
        secret_keys: Iterable[str] = DEFAULT_SECRET_KEYS,
        virtualenv: str | os.PathLike[str] | None = None,
        env: Mapping[str, str | None] | None = None,
        pulumi: str | os.PathLike[str] | None = None,
        copy: bool = True,
        workdir: str | os.PathLike[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        cli = Path(pulumi) if pulumi is not None else find_pulumi()
        if cli is None:
            raise FileNotFoundError(
                "the Pulumi CLI was not found: run `make install` (it builds the pinned CLI "
                f"when Go is installed), put `pulumi` on PATH, or set {PULUMI_ENV}"
            )
        self.pulumi = cli
        self.timeout = timeout
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="pulumi-cli-stack-")
            workdir = self._tmp.name
        self.workdir = Path(workdir)
        source = Path(project).resolve()
        if copy:
            self.project_dir = self.workdir / source.name
            shutil.copytree(source, self.project_dir, ignore=shutil.ignore_patterns("venv", "__pycache__"))
            point_at_virtualenv(self.project_dir / "Pulumi.yaml", Path(virtualenv or sys.prefix))
        else:
            self.project_dir = source
        self.project = project_name(self.project_dir)
        self.stack = stack
        backend = self.workdir / "backend"
        home = self.workdir / "pulumi-home"
        backend.mkdir(parents=True, exist_ok=True)
        home.mkdir(parents=True, exist_ok=True)
        bin_dir = str(self.pulumi.resolve().parent)
        merged: dict[str, str | None] = {
            **os.environ,
            "PATH": os.pathsep.join([bin_dir, str(Path(sys.prefix) / "bin"), os.environ.get("PATH", "")]),
            "PULUMI_BACKEND_URL": backend.as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": secrets.token_urlsafe(24),
            "PULUMI_HOME": str(home),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            **(env or {}),
        }
        self.env = {k: v for k, v in merged.items() if v is not None}
        self.run("stack", "init", stack, select_stack=False)
        secret = set(secret_keys)
        for key, value in (config or {}).items():
            self.set_config(key, value, secret=key in secret)

    # -- commands ----------------------------------------------------------------------------------------------

    def run(
        self,
        *args: str,
        check: bool = True,
        stdin: str | None = None,
        timeout: float | None = None,
        select_stack: bool = True,
    ) -> CliResult:
        """``pulumi --non-interactive ARGS --stack NAME`` in the project directory (several stacks may share
        it, so the stack is always named); raises CliError on failure when ``check``."""
        full = ("--non-interactive", *args)
        if select_stack:
            cut = full.index("--") if "--" in full else len(full)
            full = (*full[:cut], "--stack", self.stack, *full[cut:])
        # A process group of its own: on a timeout the CLI's plugins and the program go with it.
        proc = spawn(
            [str(self.pulumi), *full],
            cwd=self.project_dir,
            env=self.env,
            text=True,
            stdin=None if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            stdout, stderr = proc.communicate(stdin, timeout=timeout or self.timeout)
        finally:
            stop_process(proc)  # at once if it exited (what it left in its group included)
        result = CliResult(full, proc.returncode, stdout, stderr)
        if check and result.returncode != 0:
            raise CliError(result)
        return result

    def set_config(self, key: str, value: Any, *, secret: bool = False) -> None:
        """``pulumi config set``; a secret value is read from stdin, so it never appears in the process list."""
        text = value if isinstance(value, str) else json.dumps(value)
        if secret:
            self.run("config", "set", "--secret", key, stdin=text)
        else:
            self.run("config", "set", key, "--", text)

    def up(self, *args: str, check: bool = True) -> CliResult:
        return self.run("up", "--yes", "--skip-preview", *args, check=check)

    def preview(self, *args: str, check: bool = True) -> CliResult:
        return self.run("preview", *args, check=check)

    def refresh(self, *args: str, check: bool = True) -> CliResult:
        extra = () if "--preview-only" in args else ("--yes", "--skip-preview")
        return self.run("refresh", *extra, *args, check=check)

    def destroy(self, *args: str, check: bool = True) -> CliResult:
        return self.run("destroy", "--yes", "--skip-preview", *args, check=check)

    def outputs(self) -> dict[str, Any]:
        """The stack outputs (secrets shown as ``[secret]``)."""
        return dict(json.loads(self.run("stack", "output", "--json").stdout))

    def export(self) -> dict[str, Any]:
        """``pulumi stack export`` (secrets stay encrypted)."""
        return dict(json.loads(self.run("stack", "export").stdout))

    def resources(self, type_prefix: str = "pulumi-python:dynamic") -> list[dict[str, Any]]:
        """The exported state's resources of one type family (the connectors, by default)."""
        found = self.export()["deployment"].get("resources") or []
        return [r for r in found if str(r.get("type", "")).startswith(type_prefix)]

    def automation(self) -> automation.Stack:
        """The same stack through the Automation API (the same CLI, workspace and environment)."""
        from pulumi import automation as auto

        if self.pulumi.parent.name != "bin":
            raise ValueError(f"the Automation API runs <root>/bin/pulumi; {self.pulumi} is not in a bin directory")
        options = auto.LocalWorkspaceOptions(
            work_dir=str(self.project_dir),
            pulumi_home=self.env["PULUMI_HOME"],
            env_vars={k: v for k, v in self.env.items() if k.startswith("PULUMI_") or k == "PATH"},
            pulumi_command=auto.PulumiCommand(root=str(self.pulumi.parent.parent)),
        )
        return auto.select_stack(self.stack, work_dir=str(self.project_dir), opts=options)

    # -- lifetime ----------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Remove the workspace (state, copies, plugin home). Destroy first if resources must not be left."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> CliStack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
