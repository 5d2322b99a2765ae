"""The old import path ``pulumi_mistral.drift`` keeps working: the same objects as the modules that own them."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pulumi_mistral.cli.drift as drift_package
import pulumi_mistral.drift as old
from pulumi_mistral.cli.drift import command, formats, load, report
from pulumi_mistral.core import compare


def test_old_path_exposes_the_same_objects() -> None:
    assert old.scan is drift_package.scan is report.scan
    assert old.Declared is old.DeclaredConnector is load.DeclaredConnector
    assert old.load_stack_export is load.load_stack_export and old.load_declared_yaml is load.load_declared_yaml
    assert old.Finding is report.Finding and old.Report is report.Report and old.RequestCounter is report.RequestCounter
    assert old.CLASSES is report.CLASSES
    assert old.compare_settings is compare.compare_settings and old.UNKNOWN is compare.UNKNOWN
    assert old.render is formats.render
    assert old.add_arguments is command.add_arguments and old.run is command.run and old.main is command.main


def test_every_public_name_of_the_package_is_kept_on_the_old_path() -> None:
    before_the_split = {
        "CLASSES",
        "UNKNOWN",
        "Declared",
        "Finding",
        "Report",
        "RequestCounter",
        "add_arguments",
        "compare_settings",
        "load_declared_yaml",
        "load_stack_export",
        "render",
        "run",
        "scan",
    }
    assert before_the_split <= set(old.__all__)
    assert set(old.__all__) == set(drift_package.__all__) | {"Declared", "main"}
    for name in drift_package.__all__:
        assert getattr(old, name) is getattr(drift_package, name), name


def test_the_dispatcher_entry_points_are_on_the_package() -> None:
    assert drift_package.add_arguments is command.add_arguments and drift_package.run is command.run


def test_no_re_exported_name_hides_a_module_of_the_package() -> None:
    # `scan` and `render` are functions of the package: a module of the same name would be hidden behind them.
    for name in ("command", "formats", "load", "progress", "report"):
        module = importlib.import_module(f"pulumi_mistral.cli.drift.{name}")
        assert getattr(drift_package, name) is module
    assert not set(drift_package.__all__) & {"command", "formats", "load", "progress", "report"}


def test_python_m_runs_the_command_on_both_paths() -> None:
    for module in ("pulumi_mistral.drift", "pulumi_mistral.cli.drift"):
        proc = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith("usage: pulumi-mistral drift")
        assert "declared connectors against the live workspace and live tool lists, as a CI report" in proc.stdout
