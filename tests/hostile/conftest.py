"""Fixtures of the hostile-input suite: the suite's module on sys.path (shared with bench/reliability.py)."""

from __future__ import annotations

import sys
from pathlib import Path

# pytest's importlib mode does not put this folder on sys.path; the generator is shared with the benchmark.
sys.path.insert(0, str(Path(__file__).resolve().parent))
