"""recommender.files.atomic_write: the whole new file or the old one, nothing in between."""

from __future__ import annotations

import os
import stat

import pytest

from recommender.files import atomic_write


def test_writes_a_new_file_and_replaces_an_old_one(tmp_path):
    path = tmp_path / "sub" / "notes.md"
    with atomic_write(path) as handle:
        handle.write("first")
    with atomic_write(path, "wb") as handle:
        handle.write(b"second")
    assert path.read_text() == "second"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert os.listdir(path.parent) == ["notes.md"]


def test_an_error_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_write(path) as handle:
        handle.write("half")
        raise RuntimeError("disk on fire")
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["notes.md"]


def test_only_write_modes():
    with pytest.raises(ValueError), atomic_write("x", "a"):
        pass
