"""Pulumi project files for the test tools: a project's name, and pointing its Pulumi.yaml at a virtualenv."""

from __future__ import annotations

from pathlib import Path

__all__ = ["point_at_virtualenv", "project_name"]


def project_name(project_dir: Path) -> str:
    """The ``name`` in ``project_dir/Pulumi.yaml`` (the directory's name when it has none)."""
    import yaml

    data = yaml.safe_load((project_dir / "Pulumi.yaml").read_text()) or {}
    return str(data.get("name") or project_dir.name)


def point_at_virtualenv(pulumi_yaml: Path, venv: Path) -> None:
    """Set ``runtime.options.virtualenv`` (the program's and the provider's interpreter) to ``venv``."""
    import yaml

    data = yaml.safe_load(pulumi_yaml.read_text()) or {}
    runtime = data.get("runtime")
    if isinstance(runtime, str):
        runtime = {"name": runtime}
    runtime = dict(runtime or {"name": "python"})
    options = dict(runtime.get("options") or {})
    options["virtualenv"] = str(venv)
    options.setdefault("toolchain", "pip")
    runtime["options"] = options
    data["runtime"] = runtime
    pulumi_yaml.write_text(yaml.safe_dump(data, sort_keys=False))
