"""The old import path ``pulumi_mistral.export`` keeps working: the same objects as ``pulumi_mistral.cli.export``."""

from __future__ import annotations

import pulumi_mistral.cli.export as new
import pulumi_mistral.export as old


def test_old_path_exposes_the_same_objects() -> None:
    assert old.__all__ == new.__all__
    for name in new.__all__:
        assert getattr(old, name) is getattr(new, name), name
    assert old.render_yaml is new.render_yaml and old.Export is new.Export and old.run is new.run
