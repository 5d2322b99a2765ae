"""Project shapes: every shape a real project takes, deployed by the real CLI through our language host.

Each shape is a project written the way a user writes it (its own Pulumi.yaml, files and environment), then
``up``, ``preview --expect-no-changes`` and ``destroy`` against ``pulumi-mistral local``. docs/engine.md lists
the shapes with these tests. Bad programs must fail with the program's own message, naming the file and the line,
with nothing of the host's machinery in it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_mistral.testing.pulumi_cli import CliStack

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)
PROGRAM = """\
import pulumi
from pulumi_mistral import Connector

shape = Connector("shape", description="A project shape", server="https://mcp.example.com/mcp")
pulumi.export("id", shape.connector_id)
"""


def system_path() -> str:
    """PATH without this virtualenv: a shell where no virtualenv is active."""
    return os.pathsep.join(
        p
        for p in os.environ.get("PATH", "").split(os.pathsep)
        if p and not Path(p).resolve().is_relative_to(VENV.resolve())
    )


def write_project(root: Path, runtime: Any, files: Mapping[str, str], **extra: Any) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    project = {"name": "shape", "runtime": runtime, **extra}
    (root / "Pulumi.yaml").write_text(yaml.safe_dump(project, sort_keys=False))
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


@pytest.fixture
def shape(tmp_path: Path, pulumi_bin: Path, api: Any) -> Iterator[Any]:
    """``shape(runtime, files, env=..., config=..., activated=False, **project)``: a CliStack on a project written
    in place, with the key and URL in the environment (not in config) unless ``config`` says otherwise."""
    made: list[CliStack] = []

    def make(
        runtime: Any,
        files: Mapping[str, str],
        *,
        env: Mapping[str, str | None] | None = None,
        config: Mapping[str, Any] | None = None,
        secret_keys: tuple[str, ...] = (),
        activated: bool = False,
        **project: Any,
    ) -> CliStack:
        root = write_project(tmp_path / f"project-{len(made)}", runtime, files, **project)
        base: dict[str, str | None] = {
            "MISTRAL_API_KEY": api.api_key,
            "MISTRAL_SERVER_URL": api.url,
            # As `source venv/bin/activate` leaves them, or as a shell with no virtualenv active.
            "VIRTUAL_ENV": str(VENV) if activated else None,
            "PATH": os.pathsep.join([str(VENV / "bin"), system_path()]) if activated else system_path(),
        }
        stack = CliStack(
            root,
            copy=False,
            workdir=tmp_path / f"workspace-{len(made)}",
            config=config,
            secret_keys=secret_keys,
            pulumi=pulumi_bin,
            env={**base, **(env or {})},
        )
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stack.destroy(check=False)
        stack.close()


def deploy_and_destroy(stack: CliStack, api: Any) -> None:
    """The shape works: up, then no changes, then destroy, with the API agreeing at each step."""
    up = stack.up()
    assert "created" in up.stdout, up.output
    assert "from $PATH" not in up.output, up.output  # the host next to the CLI, with no ambient-plugin warning
    connector_id = stack.outputs()["id"]
    assert [c.id for c in api.connectors()] == [connector_id]
    assert stack.preview("--expect-no-changes").returncode == 0
    stack.destroy()
    assert api.connectors() == []


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This project built as a wheel, as a user installs it before it is published."""
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy of the sources: a build in the checkout would leave build/ and *.egg-info in it.
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(REPO / "provider", source / "provider", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("pulumi_mistral_connectors-*.whl")
    return built


# -- the crash: a stack with no config at all ---------------------------------------------------------------------


def test_no_stack_config_with_a_virtualenv_option(shape, api) -> None:
    """Key and URL from the environment, no `pulumi config` at all (PULUMI_CONFIG was `null` and crashed)."""
    stack = shape({"name": "python", "options": {"virtualenv": str(VENV)}}, {"__main__.py": PROGRAM})
    deploy_and_destroy(stack, api)


def test_no_stack_config_in_an_activated_virtualenv_with_no_runtime_options(shape, api) -> None:
    stack = shape("python", {"__main__.py": PROGRAM}, activated=True)
    deploy_and_destroy(stack, api)


def test_config_without_any_secret(shape, api) -> None:
    stack = shape(
        {"name": "python", "options": {"virtualenv": str(VENV)}},
        {"__main__.py": PROGRAM},
        config={"mistral:serverUrl": api.url},
        env={"MISTRAL_SERVER_URL": None},
    )
    assert stack.run("config", "--show-secrets").stdout.count("mistral:") == 1
    deploy_and_destroy(stack, api)


# -- where the program and its environment are ---------------------------------------------------------------------


def test_virtualenv_as_a_path_relative_to_the_project(shape, api, tmp_path) -> None:
    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / "connectors").symlink_to(VENV, target_is_directory=True)
    stack = shape({"name": "python", "options": {"virtualenv": "../envs/connectors"}}, {"__main__.py": PROGRAM})
    deploy_and_destroy(stack, api)


def test_main_pointing_at_a_subdirectory(shape, api) -> None:
    stack = shape(
        {"name": "python", "options": {"virtualenv": str(VENV)}}, {"infra/__main__.py": PROGRAM}, main="infra/"
    )
    deploy_and_destroy(stack, api)


def test_a_program_that_is_a_package(shape, api) -> None:
    files = {
        "__main__.py": "import pulumi\nfrom connectors import declare\n\npulumi.export('id', declare().connector_id)\n",
        "connectors/__init__.py": "from connectors.shapes import declare\n",
        "connectors/shapes.py": (
            "from pulumi_mistral import Connector\n\n\n"
            "def declare() -> Connector:\n"
            "    return Connector('shape', description='From a package', server='https://mcp.example.com/mcp')\n"
        ),
    }
    stack = shape({"name": "python", "options": {"virtualenv": str(VENV)}}, files)
    deploy_and_destroy(stack, api)


# -- environments the project makes itself -------------------------------------------------------------------------


def test_a_fresh_project_with_requirements_after_pulumi_install(shape, api, wheel) -> None:
    stack = shape(
        {"name": "python", "options": {"virtualenv": "venv"}},
        {"__main__.py": PROGRAM, "requirements.txt": f"pulumi-mistral-connectors @ {wheel.as_uri()}\n"},
    )
    installed = stack.run("install", select_stack=False, timeout=600)
    assert installed.returncode == 0, installed.output
    assert (stack.project_dir / "venv" / "bin" / "python").exists()
    deploy_and_destroy(stack, api)


TOOLCHAIN_PYPROJECT = """\
[project]
name = "shape"
version = "0.1.0"
requires-python = ">=3.10,<4"
dependencies = ["pulumi-mistral-connectors @ {wheel}"]
"""


@pytest.mark.parametrize("toolchain", ["uv", "poetry"])
def test_a_toolchain_project_after_pulumi_install(shape, api, wheel, toolchain) -> None:
    """`toolchain: uv` / `toolchain: poetry` (both installed by `make install` as `pipx install` would)."""
    pyproject = TOOLCHAIN_PYPROJECT.format(wheel=wheel.as_uri())
    if toolchain == "poetry":
        pyproject += "\n[tool.poetry]\npackage-mode = false\n"
    tools = str(VENV / "tools" / "bin")
    stack = shape(
        {"name": "python", "options": {"toolchain": toolchain}},
        {"__main__.py": PROGRAM, "pyproject.toml": pyproject},
        env={
            "PATH": os.pathsep.join([tools, system_path()]),
            "UV_PYTHON_DOWNLOADS": "never",
            "POETRY_VIRTUALENVS_IN_PROJECT": "true",
        },
    )
    installed = stack.run("install", select_stack=False, timeout=900)
    assert installed.returncode == 0, installed.output
    deploy_and_destroy(stack, api)


# -- bad programs --------------------------------------------------------------------------------------------------

HOST_INTERNALS = (
    "pulumi-language-python-exec",
    "runpy",
    "<frozen",
    "site-packages/pulumi/",
    "runner",
    "run_path",
    "asyncio",
)

BAD_PROGRAMS = [
    (
        "raises",
        "import pulumi\n\n\ndef check():\n    raise ValueError('the program says no')\n\n\ncheck()\n",
        5,
        "ValueError: the program says no",
    ),
    ("syntax-error", "import pulumi\n\ndef broken(:\n    pass\n", 3, "SyntaxError: invalid syntax"),
    (
        "missing-module",
        "import pulumi\nimport not_installed_anywhere\n",
        2,
        "ModuleNotFoundError: No module named 'not_installed_anywhere'",
    ),
]


@pytest.mark.parametrize(("kind", "source", "line", "message"), BAD_PROGRAMS, ids=[b[0] for b in BAD_PROGRAMS])
def test_a_bad_program_fails_with_its_own_message_file_and_line(shape, api, kind, source, line, message) -> None:
    stack = shape({"name": "python", "options": {"virtualenv": str(VENV)}}, {"__main__.py": source})
    for run in (stack.preview(check=False), stack.up(check=False)):
        assert run.returncode != 0
        main = stack.project_dir / "__main__.py"
        assert f'File "{main}", line {line}' in run.output, run.output
        assert message in run.output, run.output
        leaked = [word for word in HOST_INTERNALS if word in run.output]
        assert leaked == [], run.output
    assert api.connectors() == []
