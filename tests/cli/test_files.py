"""write_atomic: the one way the commands write files (readers never see half a file; permissions as asked)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from pulumi_mistral.cli.files import write_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_writes_creates_parents_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "report.json"
    write_atomic(target, "first\n")
    write_atomic(target, "second\n")
    assert target.read_text() == "second\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["report.json"]


def test_mode_is_the_umask_default_or_the_one_asked(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "plain.txt", "x")
        write_atomic(tmp_path / "key.txt", "x", mode=0o600)
    finally:
        os.umask(old)
    assert _mode(tmp_path / "plain.txt") == 0o644
    assert _mode(tmp_path / "key.txt") == 0o600


def test_a_failed_write_keeps_the_old_file_and_cleans_up(tmp_path: Path) -> None:
    target = tmp_path / "connectors.yaml"
    target.write_text("old\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "caf\u00e9", encoding="ascii")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["connectors.yaml"]


def test_a_concurrent_reader_sees_the_old_or_the_new_file_never_a_part(tmp_path: Path) -> None:
    target = tmp_path / "big.txt"
    old, new = "a" * 2_000_000, "b" * 2_000_000
    write_atomic(target, old)
    seen: set[str] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            text = target.read_text()
            seen.add(text[:1] + str(len(text)))

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(20):
            write_atomic(target, new if i % 2 == 0 else old)
    finally:
        stop.set()
        reader.join(timeout=30)
    assert seen <= {"a2000000", "b2000000"}, seen


def test_unwritable_directory_raises_oserror(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError):
        write_atomic(blocker / "out.txt", "x")
