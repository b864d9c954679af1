"""Published model versions as a web worker holds them.

A worker reads the version the Redis pointer names into its own memory, every file checked
against the size and SHA-256 in the version's ``metadata.json`` (nothing is memory-mapped: a
file truncated or rewritten on disk cannot crash a worker or change what it serves). Papers
that arrived after training are featurised and mapped into the model.
"""

from __future__ import annotations

import io
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import scipy.sparse as sp

import recommender
from backend.recommendations.training import (
    ADDITIONS_FEATURES,
    ADDITIONS_IDS,
    MODEL_SUBDIR,
    PAPER_IDS_FILE,
    VOCABULARY_FILE,
    models_dir,
)
from recommender.artifacts import (
    Fingerprint,
    Identity,
    fingerprint,
    is_version,
    read_metadata,
    read_unverified,
    read_verified,
    version_directory,
    versions,
)
from recommender.readers import CoReaders
from recommender.textfeatures import TextFeaturizer

log = logging.getLogger(__name__)

# Trending's weight beside a model published without its own blend.
LEGACY_TRENDING = 0.35


def serving_blend(loaded: LoadedModel) -> dict[str, float]:
    """The blend a model was published with (``metadata["blend"]``); for a model without
    one, its own component weights beside trending."""
    blend = loaded.metadata.get("blend")
    if isinstance(blend, dict) and blend:
        return {str(name): float(weight) for name, weight in blend.items()}
    return {**loaded.model.weights, "trending": LEGACY_TRENDING}


@dataclass
class LoadedModel:
    """A model version with its paper index and featuriser."""

    version: str
    model: Any
    paper_ids: list[str]
    featurizer: TextFeaturizer
    metadata: dict[str, Any]
    index: dict[str, int] = field(default_factory=dict)
    ids_by_item: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    readers: CoReaders | None = None
    # the version directory as it was when loading began (see artifacts.fingerprint)
    fingerprint: Fingerprint = None
    # the model's arrays by SHA-256: the identity of the file they were read from and their
    # verified bytes, for a version sharing them (hard links) to reuse
    arrays_by_digest: dict[str, tuple[Identity, bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.index = {paper_id: i for i, paper_id in enumerate(self.paper_ids)}
        self.ids_by_item = list(self.paper_ids)

    def paper_of(self, item: int) -> str:
        """Paper id of a model item (trained or added since)."""
        return self.ids_by_item[item]

    def add_papers(self, paper_ids: list[str], features: sp.csr_matrix) -> None:
        """Map papers that arrived after training into the model (hold ``lock``)."""
        for paper_id, item in zip(paper_ids, self.model.add_items(features), strict=True):
            self.index[paper_id] = int(item)
            self.ids_by_item.append(paper_id)


@dataclass(frozen=True)
class ModelStatus:
    """What a worker serves: the version the pointer names, the version served, and why they
    differ (``problem``, None when all is well)."""

    pointer: str | None = None
    served: str | None = None
    problem: str | None = None


def load_version(config: dict[str, Any], version: str,
                 reuse: LoadedModel | None = None) -> LoadedModel:
    """Load a published model version into this process's memory; raises
    ``recommender.ArtifactError`` if it is unusable.

    ``version`` must be a version name (never a path). Every file is read once and checked
    against the size and SHA-256 its ``metadata.json`` lists, and the model is built from
    those bytes; arrays ``reuse`` (the version being served) holds with the same checksum
    are taken from it. A version published without checksums is read unverified (logged).
    The version's additions (papers mapped in by ``paperfeed scheduler``) are added.
    """
    directory = version_directory(models_dir(config), version)
    seen = fingerprint(directory)
    metadata = read_metadata(directory, version)
    identities: dict[str, Identity] = {}
    if "files" in metadata:
        files, identities = read_verified(directory, metadata,
                                          reuse.arrays_by_digest if reuse else None)
    else:
        log.warning("model version %s lists no checksums: loaded unverified", version)
        files = read_unverified(directory)
    prefix = MODEL_SUBDIR + "/"
    try:
        paper_ids = json.loads(files[PAPER_IDS_FILE])
        featurizer = TextFeaturizer.loads(files[VOCABULARY_FILE], VOCABULARY_FILE)
    except (KeyError, ValueError) as error:
        raise recommender.ArtifactError(f"model version {version}: {error}") from error
    model = recommender.load(str(directory / MODEL_SUBDIR), files={
        name[len(prefix):]: data for name, data in files.items() if name.startswith(prefix)})
    if not isinstance(paper_ids, list) or len(paper_ids) != model.n_items:
        raise recommender.ArtifactError(f"model version {version}: inconsistent artifact")
    listed = metadata.get("files", {})
    loaded = LoadedModel(version, model, paper_ids, featurizer, metadata,
                         readers=CoReaders.from_files(files, paper_ids), fingerprint=seen,
                         arrays_by_digest={listed[name]["sha256"]: (identities[name], data)
                                           for name, data in files.items()
                                           if name in identities and name.startswith(prefix)
                                           and name.endswith(".npy")})
    _add_additions(loaded, files)
    return loaded


def _add_additions(loaded: LoadedModel, files: dict[str, bytes]) -> None:
    """Map the papers ``paperfeed scheduler`` featurised since training, in one batch."""
    if ADDITIONS_FEATURES not in files:
        return
    try:
        features = sp.load_npz(io.BytesIO(files[ADDITIONS_FEATURES])).tocsr()
        ids = json.loads(files[ADDITIONS_IDS])
    except (KeyError, OSError, ValueError) as error:
        raise recommender.ArtifactError(
            f"model version {loaded.version}: additions: {error}") from error
    ids = ids[: features.shape[0]]
    rows = [i for i, paper_id in enumerate(ids) if paper_id not in loaded.index]
    if rows:
        loaded.add_papers([ids[row] for row in rows], features[rows])


def version_before(models: Path, version: str | None) -> str | None:
    """The newest version in ``models`` older than ``version`` (what serves while
    ``version`` cannot), if any."""
    if not is_version(version):
        return None
    return next((v for v in reversed(versions(models)) if v < version), None)
