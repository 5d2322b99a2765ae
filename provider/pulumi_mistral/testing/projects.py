"""Pulumi project files for the test tools: a project's name, and pointing its Pulumi.yaml at a virtualenv."""

from __future__ import annotations

from pathlib import Path

__all__ = ["PLUGIN", "point_at_virtualenv", "project_name"]

PLUGIN = "mistral"  # the native plugin, `pulumi-resource-mistral`, installed in the virtualenv's bin directory


def project_name(project_dir: Path) -> str:
    """The ``name`` in ``project_dir/Pulumi.yaml`` (the directory's name when it has none)."""
    import yaml

    data = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    return str(data.get("name") or project_dir.name)


def point_at_virtualenv(pulumi_yaml: Path, venv: Path) -> None:
    """Point a project at ``venv``: ``runtime.options.virtualenv`` (the program's and the dynamic provider's
    interpreter) for a Python project, and the ``path`` of a ``plugins.providers`` entry named ``mistral`` (the
    directory holding the native plugin) for a project of any runtime that declares one."""
    import yaml

    data = yaml.safe_load(pulumi_yaml.read_text()) or {}
    runtime = data.get("runtime")
    if isinstance(runtime, str):
        runtime = {"name": runtime}
    runtime = dict(runtime or {"name": "python"})
    if runtime.get("name", "python") == "python":
        options = dict(runtime.get("options") or {})
        options["virtualenv"] = str(venv)
        options.setdefault("toolchain", "pip")
        runtime["options"] = options
    data["runtime"] = runtime
    plugins = data.get("plugins") or {}
    for provider in plugins.get("providers") or []:
        if provider.get("name") == PLUGIN:
            provider["path"] = str(venv / "bin")
    pulumi_yaml.write_text(yaml.safe_dump(data, sort_keys=False))
