"""The Python SDK of the native plugin, ``pulumi_mistral.native``, generated from schema.json by the pinned generator.

``pulumi package gen-sdk schema.json --language python`` (the CLI built by ``make install``; our language host's
GeneratePackage runs the pinned ``pkg/v3`` code generator) writes the package ``pulumi_mistral_native`` (the
schema's Python name); this distribution ships it as it is, as a top-level package beside ``pulumi_mistral``
(``pulumi_mistral.native`` is the same module), so the code ``pulumi import`` prints imports what is installed.
One edit: ``_utilities.py`` takes the schema's version instead of reading the installed distribution named after
the package, which here is ours under another name. One file is left out: ``pulumi-plugin.json``. Installed
with every copy of ``pulumi_mistral``, it would make every stack, dynamic ones included, declare the ``mistral``
plugin to the engine before its program runs (the language host reports such files): a download attempt on
every command, or a warning with an activated virtualenv. The plugin is found when a native resource needs it.
A test regenerates the package and fails when the committed files differ::

    python -m pulumi_mistral.plugin.sdkgen            # rewrites provider/pulumi_mistral_native/
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["NATIVE", "generate", "main"]

ROOT = Path(__file__).resolve().parents[3]
NATIVE = Path(__file__).resolve().parents[2] / "pulumi_mistral_native"
_GENERATED = "pulumi_mistral_native"  # the schema's Python package name
_VERSION_LINE = "    pep440_version_string = importlib.metadata.version(root_package)\n"
_SKIPPED = frozenset({"README.md", "pulumi-plugin.json"})


def generate(schema: Path, pulumi: Path) -> dict[str, str]:
    """The SDK's files (path relative to the package -> text) for ``schema``, generated with ``pulumi``."""
    version = json.loads(schema.read_text(encoding="utf-8"))["version"]
    with tempfile.TemporaryDirectory(prefix="pulumi-mistral-sdkgen-") as tmp:
        env = {
            **os.environ,
            "PULUMI_HOME": str(Path(tmp) / "home"),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        }
        out = Path(tmp) / "sdk"
        done = subprocess.run(
            [str(pulumi), "package", "gen-sdk", str(schema), "--language", "python", "--out", str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pulumi package gen-sdk failed:\n{done.stdout}{done.stderr}")
        package = out / "python" / _GENERATED
        files = {
            p.relative_to(package).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(package.rglob("*"))
            if p.is_file() and p.name not in _SKIPPED
        }
    utilities = files["_utilities.py"]
    if _VERSION_LINE not in utilities:
        raise RuntimeError(
            "the generated _utilities.py no longer reads its version the known way: update pulumi_mistral.plugin.sdkgen"
        )
    pinned = f"    pep440_version_string = {version!r}  # the schema's version (pulumi_mistral.plugin.sdkgen)\n"
    files["_utilities.py"] = utilities.replace(_VERSION_LINE, pinned)
    return files


def main() -> int:
    """Regenerate ``provider/pulumi_mistral_native`` from the repository's schema.json."""
    from pulumi_mistral.testing.pulumi_cli import find_pulumi

    pulumi = find_pulumi()
    if pulumi is None:
        print("the Pulumi CLI was not found: run `make install`", file=sys.stderr)
        return 1
    files = generate(ROOT / "schema.json", pulumi)
    shutil.rmtree(NATIVE, ignore_errors=True)
    for name, text in files.items():
        (NATIVE / name).parent.mkdir(parents=True, exist_ok=True)
        (NATIVE / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files into {NATIVE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
