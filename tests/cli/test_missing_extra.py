"""A subcommand whose extra is not installed fails in one line that names the missing module and the fix."""

from __future__ import annotations

import subprocess
import sys

# The process sees fastapi as absent (a None in sys.modules makes its import fail as a missing package does).
PROGRAM = "import sys; sys.modules['fastapi'] = None; from pulumi_mistral.cli import main; sys.exit(main(['local']))"


def test_local_without_its_extra_names_the_module_and_the_extra() -> None:
    done = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("pulumi-mistral local: cannot import fastapi. ")
    assert "'local' extra" in lines[0] and "[local]" in lines[0]
    assert "Traceback" not in done.stderr
