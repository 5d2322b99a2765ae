"""How many cases the fuzz tests generated, per kind (reported by bench/reliability.py)."""

from __future__ import annotations

import json
import os
from collections import Counter

COUNTS: Counter[str] = Counter()
ENV = "PULUMI_MISTRAL_FUZZ_COUNTS"


def count_case(kind: str) -> None:
    COUNTS[kind] += 1


def write_counts() -> None:
    """Append this session's counts as one JSON line to the file named by $PULUMI_MISTRAL_FUZZ_COUNTS."""
    target = os.environ.get(ENV)
    if target and COUNTS:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps(dict(COUNTS)) + "\n")
