"""recommender.files: the whole new file or directory or the old one, nothing in between."""

from __future__ import annotations

import os
import stat

import pytest

from recommender.files import atomic_directory, atomic_write


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


def test_a_directory_appears_whole_replacing_the_old_one(tmp_path):
    target = tmp_path / "models" / "v1"
    with atomic_directory(target) as directory:
        (directory / "a.npy").write_bytes(b"first")
    with atomic_directory(target) as directory:
        (directory / "b.npy").write_bytes(b"second")
        assert (target / "a.npy").read_bytes() == b"first"  # the old one until the block ends
    assert sorted(p.name for p in target.iterdir()) == ["b.npy"]
    assert sorted(p.name for p in target.parent.iterdir()) == ["v1"]


def test_a_failed_directory_leaves_nothing_and_the_old_one_untouched(tmp_path):
    target = tmp_path / "v1"
    with atomic_directory(target) as directory:
        (directory / "a.npy").write_bytes(b"first")
    with pytest.raises(RuntimeError), atomic_directory(target) as directory:
        (directory / "a.npy").write_bytes(b"half")
        raise RuntimeError("disk full")
    assert (target / "a.npy").read_bytes() == b"first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v1"]


def test_a_directory_that_must_be_new_is_not_replaced(tmp_path):
    target = tmp_path / "v1"
    target.mkdir()
    (target / "live.npy").write_bytes(b"served")
    with pytest.raises(OSError), atomic_directory(target, replace=False) as directory:
        (directory / "live.npy").write_bytes(b"other")
    assert (target / "live.npy").read_bytes() == b"served"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v1"]
