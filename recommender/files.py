"""Files and directories written whole or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = "utf-8",
                 permissions: int = 0o644) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path`` for writing and, when the block ends without an
    error, make it ``path`` (flushed to disk, then renamed over any existing file): readers see
    the old file or the new one, never a part. On an error the temporary file is removed.

    Parameters
    ----------
    path : path-like
        The file to write; its directory is created if needed.
    mode : {"w", "wb"}
        Text or binary.
    encoding : str or None
        Of text mode.
    permissions : int
        Mode bits of the finished file.

    Example usage::

        with atomic_write("notes.md") as handle:
            handle.write(text)
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', not {mode!r}")
    directory, name = os.path.split(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, mode, encoding=None if mode == "wb" else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, permissions)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


@contextmanager
def atomic_directory(path: str | os.PathLike[str], *, replace: bool = True) -> Iterator[Path]:
    """Give a temporary directory next to ``path`` to fill and, when the block ends without an
    error, make it ``path`` (every file flushed to disk, then one rename): readers see the old
    directory or the new one, never a part. An existing ``path`` is replaced when ``replace``
    (else the rename fails with ``OSError``). On an error the temporary directory is removed.

    Example usage::

        with atomic_directory("models/v2", replace=False) as directory:
            (directory / "weights.npy").write_bytes(data)
    """
    final = Path(os.path.abspath(path))
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    try:
        yield temporary
        for file in temporary.rglob("*"):
            if file.is_file():
                with open(file, "rb") as handle:
                    os.fsync(handle.fileno())
        os.chmod(temporary, 0o755)
        if replace and final.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".old-{final.name}-", dir=final.parent))
            os.rename(final, old / "previous")
            os.rename(temporary, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(temporary, final)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
