"""Published model versions on disk: names, checksums and verified reading.

A version is a directory ``<models dir>/<version>/`` whose ``metadata.json`` lists every
other file of the directory with its size and SHA-256 (``files``). Nothing writes into a
published directory; readers take each file's bytes once, check them against that list and
build the model from those bytes, so a file changed on disk afterwards cannot change or
crash what a process already loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import ArtifactError

METADATA_FILE = "metadata.json"
# What new_version() makes: the UTC time to the second, then 6 hex digits (the
# microsecond, then one random digit); names sort by time.
VERSION_PATTERN = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
CHUNK = 1 << 20

Fingerprint = tuple[tuple[str, int, int, int], ...] | None


def is_version(name: object) -> bool:
    """True if ``name`` has the shape of a version name (no path, no dots)."""
    return isinstance(name, str) and VERSION_PATTERN.fullmatch(name) is not None


def version_directory(models: Path, version: object) -> Path:
    """The directory of ``version`` inside ``models``; ``ArtifactError`` if the name is not
    a version name (a pointer such as ``../../etc`` never leaves the models directory)."""
    if not is_version(version):
        raise ArtifactError(f"the model pointer {str(version)[:80]!r} is not a model version name")
    return models / str(version)


def versions(models: Path) -> list[str]:
    """The version directories in ``models``, oldest first (names sort by time)."""
    try:
        return sorted(entry.name for entry in os.scandir(models)
                      if is_version(entry.name) and entry.is_dir())
    except OSError:
        return []


def _files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.rglob("*") if path.is_file()
                  and path.relative_to(directory).as_posix() != METADATA_FILE)


def manifest(directory: Path,
             known: Mapping[str, dict[str, Any]] | None = None) -> dict[str, dict[str, Any]]:
    """Size and SHA-256 of every file under ``directory`` but ``metadata.json``, by
    POSIX path relative to it (what ``metadata["files"]`` holds); entries in ``known``
    are taken as they are (the checksums of files linked from a verified version)."""
    listed = dict(known or {})
    for path in _files(directory):
        if path.relative_to(directory).as_posix() in listed:
            continue
        digest = hashlib.sha256()
        size = 0
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        listed[path.relative_to(directory).as_posix()] = {"bytes": size,
                                                          "sha256": digest.hexdigest()}
    return listed


def fingerprint(directory: Path) -> Fingerprint:
    """What ``stat`` says of the directory's files (path, size, mtime, inode): any write,
    truncation, replacement or removal changes it. None if the directory is missing."""
    try:
        return tuple((path.relative_to(directory).as_posix(), *_identity(path.stat()))
                     for path in sorted(directory.rglob("*")) if path.is_file())
    except OSError:
        return None


def read_metadata(directory: Path, version: str) -> dict[str, Any]:
    """The version's ``metadata.json``, checked to name this version."""
    try:
        metadata = json.loads((directory / METADATA_FILE).read_bytes())
    except FileNotFoundError as error:
        if not directory.is_dir():
            raise ArtifactError(f"model version {version} not found in {directory.parent}") from None
        raise ArtifactError(f"model version {version}: {error}") from error
    except (OSError, ValueError) as error:
        raise ArtifactError(f"model version {version}: {error}") from error
    if not isinstance(metadata, dict) or metadata.get("version") != version:
        raise ArtifactError(f"model version {version}: metadata.json names another version")
    return metadata


Identity = tuple[int, int, int]  # size, mtime, inode: what a file was when it was read


def read_verified(directory: Path, metadata: Mapping[str, Any],
                  known: Mapping[str, tuple[Identity, bytes]] | None = None
                  ) -> tuple[dict[str, bytes], dict[str, Identity]]:
    """Every file ``metadata["files"]`` lists, read once into memory and checked against
    its size and SHA-256, with the identity of each file read. ``known`` maps SHA-256 to
    bytes verified before and the identity of the file they were read from: a listed file
    that is still that file (a hard link of it, unchanged) is not read again. Raises
    ``ArtifactError`` naming the first file that is missing, of another size or of another
    checksum."""
    listed = metadata.get("files")
    if not isinstance(listed, dict) or not listed:
        raise ArtifactError(f"{directory}: metadata.json lists no file checksums")
    contents: dict[str, bytes] = {}
    identities: dict[str, Identity] = {}
    for name, entry in listed.items():
        try:
            size, digest = int(entry["bytes"]), str(entry["sha256"])
        except (KeyError, TypeError, ValueError):
            raise ArtifactError(f"{directory}: bad checksum entry for {name}") from None
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise ArtifactError(f"{directory}: file {name!r} is outside the version")
        path = directory / name
        try:
            with open(path, "rb") as handle:
                identity = _identity(os.fstat(handle.fileno()))
                if known is not None and digest in known and known[digest][0] == identity:
                    data = known[digest][1]
                else:
                    data = handle.read(size + 1)
                    if len(data) != size:
                        raise ArtifactError(
                            f"{path}: {len(data)} bytes, metadata.json says {size}")
                    if hashlib.sha256(data).hexdigest() != digest:
                        raise ArtifactError(f"{path}: SHA-256 differs from metadata.json")
        except OSError as error:
            raise ArtifactError(f"{path}: {error.strerror or error}") from None
        contents[name] = data
        identities[name] = identity
    return contents, identities


def _identity(st: os.stat_result) -> Identity:
    return st.st_size, st.st_mtime_ns, st.st_ino


def read_unverified(directory: Path) -> dict[str, bytes]:
    """Every file of a version published without checksums, read into memory."""
    try:
        return {path.relative_to(directory).as_posix(): path.read_bytes()
                for path in _files(directory)}
    except OSError as error:
        raise ArtifactError(f"{directory}: {error}") from error
