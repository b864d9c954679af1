"""``paperfeed train``: read interactions and the catalogue from Redis, adapt, gate, publish.

The model's ALS settings and served blend are chosen on a validation slice of the store's
own latest interactions (:mod:`recommender.adapt`); the model is published only when it
passes the gate there (:func:`recommender.adapt.gate`), or when forced. Publishing writes a
versioned artifact directory atomically (a temporary directory in the same parent, then
``os.rename``), and only then flips the current-version pointer in Redis. A failed, NaN or
refused training raises and leaves the current model in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from backend.recommendations.texts import paper_texts
from recommender import served
from recommender.adapt import adapt, gate, served_figures, time_split
from recommender.artifacts import (
    METADATA_FILE,
    manifest,
    read_metadata,
    read_unverified,
    read_verified,
    version_directory,
)
from recommender.files import atomic_directory
from recommender.readers import ReadersIndex, save_readers
from recommender.textfeatures import TextFeaturizer
from recommender.threads import available_cpus

ARTIFACT_FORMAT = 1
MODEL_SUBDIR = "model"
PAPER_IDS_FILE = "paper_ids.json"
VOCABULARY_FILE = "vocabulary.json"
EPOCH = date(1970, 1, 1)


class TrainingError(Exception):
    """Training could not produce a model worth publishing."""


class ModelRefused(TrainingError):
    """The trained model did not pass the publishing gate; nothing was published.

    ``reasons`` says why, ``metadata`` holds the report of the run (validation figures).
    """

    def __init__(self, reasons: list[str], metadata: dict[str, Any]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons
        self.metadata = metadata


@dataclass
class TrainingData:
    """Everything a training run needs, read from the store."""

    paper_ids: list[str]
    user_items: sp.csr_matrix
    item_features: sp.csr_matrix
    featurizer: TextFeaturizer
    texts: list[str] = field(default_factory=list)
    item_day: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    n_users: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    user_ids: list[str] = field(default_factory=list)  # of each row of user_items


def models_dir(config: dict[str, Any]) -> Path:
    """Where model versions live: ``PAPERFEED_MODELS_DIR`` or ``<data dir>/models``."""
    return Path(config.get("MODELS_DIR") or Path(config["DATA_DIR"]) / "models")


def new_version(now: datetime | None = None) -> str:
    """A unique model version name that sorts by time: the UTC second, then the microsecond
    as 5 hex digits and one random hex digit."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{now.microsecond:05x}{secrets.randbelow(16):x}"


def read_training_data(store, *, max_features: int = 50_000) -> TrainingData:
    """Build the user x paper matrix and the papers' word counts from Redis.

    Papers are the whole catalogue (so that cold papers get content features); users are
    every registered user with at least one positive weight.
    """
    started = time.perf_counter()
    paper_ids: list[str] = []
    texts: list[str] = []
    for chunk in store.iter_paper_ids():
        paper_ids += chunk
        texts += paper_texts(store, chunk)
    index = {paper_id: i for i, paper_id in enumerate(paper_ids)}
    item_day = np.full(len(paper_ids), -1, dtype=np.int64)
    for paper_id, day in store.papers_since(EPOCH):
        if paper_id in index:
            item_day[index[paper_id]] = (day - EPOCH).days
    read_papers = time.perf_counter()

    user_ids: list[str] = []
    user_items = _user_matrix(_weights_and_registration(store), index, user_ids)
    read_users = time.perf_counter()

    featurizer, item_features = TextFeaturizer.fit_transform(texts, max_features=max_features)
    done = time.perf_counter()
    return TrainingData(
        paper_ids=paper_ids, user_items=user_items, item_features=item_features,
        featurizer=featurizer, texts=texts, item_day=item_day, n_users=user_items.shape[0],
        user_ids=user_ids,
        timings={"read_catalogue": read_papers - started, "read_interactions": read_users - read_papers,
                 "featurize": done - read_users},
    )


def _weights_and_registration(store) -> Iterator[tuple[list[tuple[str, dict[str, float]]], list[str]]]:
    """Batches of users' weights (derived by the store from their state with its settings)
    with their registration times."""
    for batch in store.iter_interaction_weights():
        yield batch, store.registration_times([user_id for user_id, _ in batch])


def _user_matrix(batches: Iterable[tuple[list[tuple[str, dict[str, float]]], list[str]]],
                 index: dict[str, int], user_ids: list[str] | None = None) -> sp.csr_matrix:
    """Users x papers weights of the users with any paper in ``index``, in registration order.

    Rows are in registration order, then user id order (users registered in the same
    instant), never Redis's set order, which differs between servers loading the same data:
    the same data trains the same model for a fixed random_state. Negative and non-finite
    weights are dropped.
    """
    lengths: list[int] = []
    cols: list[int | None] = []
    vals: list[float] = []
    registered: list[tuple[str, str]] = []
    column_of = index.get
    for batch, times in batches:
        for (user_id, weights), registered_at in zip(batch, times, strict=True):
            if not weights:
                continue
            user_cols = list(map(column_of, weights))
            user_vals = list(weights.values())
            if None in user_cols:  # papers no longer in the catalogue
                kept = [j for j, column in enumerate(user_cols) if column is not None]
                user_cols = [user_cols[j] for j in kept]
                user_vals = [user_vals[j] for j in kept]
                if not kept:
                    continue
            cols += user_cols
            vals += user_vals
            lengths.append(len(user_cols))
            registered.append((registered_at, user_id))
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    data = np.array(vals, dtype=np.float32) if vals else np.zeros(0, dtype=np.float32)
    user_items = sp.csr_matrix((data, np.array(cols, dtype=np.int32), indptr),
                               shape=(len(lengths), len(index)))
    user_items.sort_indices()
    user_items.data[~np.isfinite(user_items.data) | (user_items.data < 0)] = 0
    user_items.eliminate_zeros()
    order = sorted(range(len(registered)), key=registered.__getitem__)
    if user_ids is not None:
        user_ids.extend(registered[row][1] for row in order)
    return user_items[order]


def write_artifact(directory: Path, version: str, model, data: TrainingData,
                   metadata: dict[str, Any]) -> Path:
    """Write a model version atomically: temp dir in ``directory``, then rename.
    ``metadata["files"]`` gets each file's size and SHA-256."""

    def fill(temporary: Path) -> None:
        model.save(temporary / MODEL_SUBDIR)
        with open(temporary / PAPER_IDS_FILE, "w", encoding="utf-8") as handle:
            json.dump(data.paper_ids, handle)
        data.featurizer.save(temporary / VOCABULARY_FILE)
        if len(data.user_ids) == data.user_items.shape[0]:
            save_readers(temporary, data.user_ids, data.user_items)

    return _publish_directory(directory, version, metadata, fill)


def _publish_directory(directory: Path, version: str, metadata: dict[str, Any],
                       fill: Callable[[Path], None],
                       known: dict[str, dict[str, Any]] | None = None) -> Path:
    """Create ``directory/version`` whole or not at all: ``fill`` writes the files into a
    temporary directory, their checksums (``known`` ones as given) go into
    ``metadata.json``, everything is fsynced, then one rename publishes it. Nothing writes
    into it afterwards."""
    final = directory / version
    with atomic_directory(final, replace=False) as temporary:
        fill(temporary)
        metadata["files"] = manifest(temporary, known)
        with open(temporary / METADATA_FILE, "w", encoding="utf-8") as handle:
            json.dump(metadata, handle, indent=2, sort_keys=True)
    return final


def train_from_store(store, config: dict[str, Any], *, params: dict[str, Any] | None = None,
                     progress: Callable[[str], None] = lambda stage: None,
                     load_current: Callable[[], Any] | None = None,
                     force: bool = False,
                     log: Callable[[str], None] = lambda message: None) -> dict[str, Any]:
    """Adapt a new model to the store's data, gate it, and publish it. Returns its metadata.

    Raises ``TrainingError`` (or ``recommender.ModelFitError``) without touching the
    current model when there is nothing to learn from or the fit fails, and
    ``ModelRefused`` when the model does not pass the gate (unless ``force``) or no
    validation slice exists (too few readers; serving then keeps its model, or its untrained
    content + trending lists).
    """
    started = time.perf_counter()
    progress("read")
    data = read_training_data(store)
    if data.user_items.nnz == 0:
        raise TrainingError("no interactions in the store yet: nothing to train on")
    params = dict(params or {})
    params.setdefault("num_threads", available_cpus())
    seed = int(params.get("random_state", 0))

    progress("fit")
    fit_started = time.perf_counter()
    split = time_split(data.user_items, data.item_day, seed=seed)
    if split is None:
        metadata = _metadata(data, params, {}, None, started)
        raise ModelRefused(["no validation slice: fewer than 2 readers with 2 or more "
                            "interactions, one of them with the newest papers"], metadata)
    adapted = adapt(split, data.item_features, params, progress=log)
    fit_seconds = time.perf_counter() - fit_started

    progress("evaluate")
    eval_started = time.perf_counter()
    current = load_current() if load_current else None
    check = dict(adapted.check)
    if current is not None:
        check["current"] = current_figures(current, data, split)
    reasons = gate(check, check.get("current"))
    validation = {
        "days": [_day(split.first_day), _day(split.last_day)],
        "users": {"choose": len(split.choose.users), "check": len(split.check.users)},
        "held_out": int(split.held_out.nnz),
        "window": int(split.check.items.shape[1]) if len(split.check.users) else 0,
        "candidates": adapted.candidates,
        "check": check,
        "gate": {"passed": not reasons, "reasons": reasons, "forced": bool(force and reasons)},
    }
    metadata = _metadata(data, adapted.params, adapted.blend, validation, started)
    metadata["timings"].update(fit=fit_seconds, evaluate=time.perf_counter() - eval_started)
    if reasons and not force:
        raise ModelRefused(reasons, metadata)

    progress("write")
    write_started = time.perf_counter()
    write_artifact(models_dir(config), metadata["version"], adapted.model, data, metadata)
    metadata["timings"]["write"] = time.perf_counter() - write_started

    progress("publish")
    store.set_current_model_version(metadata["version"])
    metadata["timings"]["total"] = time.perf_counter() - started
    return metadata


def _day(number: int) -> str:
    return date.fromordinal(EPOCH.toordinal() + number).isoformat()


def _metadata(data: TrainingData, params: dict[str, Any], blend: dict[str, float],
              validation: dict[str, Any] | None, started: float) -> dict[str, Any]:
    return {
        "format": ARTIFACT_FORMAT,
        "version": new_version(),
        "created_at": datetime.now(UTC).isoformat(),
        "n_users": int(data.user_items.shape[0]),
        "n_items": int(data.user_items.shape[1]),
        "n_interactions": int(data.user_items.nnz),
        "n_features": int(data.featurizer.n_features),
        "params": params,
        "blend": blend,
        "validation": validation,
        "timings": {**data.timings, "total": time.perf_counter() - started},
    }


def current_figures(current, data: TrainingData, split) -> dict[str, float]:
    """The serving model's figures on the validation check (its own blend, or for a model
    published without one, its component weights and trending at serving's 0.35).

    Papers it has not seen are mapped into it from their text first, as serving does.
    """
    with current.lock:
        unknown = [j for j, paper_id in enumerate(data.paper_ids) if paper_id not in current.index]
        if unknown:
            current.add_papers([data.paper_ids[j] for j in unknown],
                               current.featurizer.transform([data.texts[j] for j in unknown]))
        mapping = np.array([current.index[paper_id] for paper_id in data.paper_ids], dtype=np.int64)
    n_old = current.model.n_items
    to_old = sp.csr_matrix((np.ones(len(mapping), dtype=np.float32),
                            (np.arange(len(mapping)), mapping)), shape=(len(mapping), n_old))
    check = split.check
    rows = (split.train[check.users] @ to_old).tocsr()
    windows = served.Windows(check.users, mapping[check.items], check.relevant)
    trending = np.zeros(n_old)
    trending[mapping] = served.trending_scores(split.train)
    raw = served.window_components(
        current.model, rows, windows, trending,
        served.readers_scores(ReadersIndex(split.train @ to_old), rows, windows))
    components = served.standardise(raw)
    blend = current.metadata.get("blend") or {**current.model.weights, "trending": 0.35}
    return served_figures(components, check.relevant, {"current": blend})["current"]


ADDITIONS_FEATURES = "additions.npz"
ADDITIONS_IDS = "additions.json"


def refresh_additions(store, config: dict[str, Any]) -> int:
    """Featurise catalogue papers the current model has not seen; return how many it knows
    now (0 without a usable current model).

    When there are new ones, publishes a new version: the current version's files (hard
    links, or copies where links fail) plus ``additions.npz``/``additions.json``, then
    moves the pointer to it only if it still names the version refreshed (a training
    published meanwhile wins). Serving maps the additions into the model in one batch when
    it loads the version, so papers imported since training are scorable without
    per-request work. A version a refresh made is removed once a newer refresh replaces it.
    """
    version = store.current_model_version()
    if not version:
        return 0
    models = models_dir(config)
    directory = version_directory(models, version)
    metadata = read_metadata(directory, version)
    files = (read_verified(directory, metadata)[0] if "files" in metadata
             else read_unverified(directory))
    known = set(json.loads(files[PAPER_IDS_FILE]))
    featurizer = TextFeaturizer.loads(files[VOCABULARY_FILE])
    new_ids: list[str] = []
    texts: list[str] = []
    for chunk in store.iter_paper_ids():
        unseen = [p for p in chunk if p not in known]
        new_ids += unseen
        texts += paper_texts(store, unseen)
    if ADDITIONS_IDS in files and json.loads(files[ADDITIONS_IDS]) == new_ids:
        return len(new_ids)
    features = featurizer.transform(texts).tocsr()

    def fill(temporary: Path) -> None:
        for name in files:
            if name in (ADDITIONS_FEATURES, ADDITIONS_IDS):
                continue
            target = temporary / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(directory / name, target)
            except OSError:
                target.write_bytes(files[name])
        sp.save_npz(temporary / ADDITIONS_FEATURES, features, compressed=False)
        (temporary / ADDITIONS_IDS).write_text(json.dumps(new_ids), encoding="utf-8")

    # The linked files keep the checksums of the bytes verified above: a file changed on
    # disk meanwhile fails verification in the new version too.
    known_files = {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                   for name, data in files.items()
                   if name not in (ADDITIONS_FEATURES, ADDITIONS_IDS)}
    refreshed = new_version()
    published = {key: value for key, value in metadata.items() if key != "files"}
    published.update(version=refreshed, refresh={
        "from": version, "at": datetime.now(UTC).isoformat(), "papers": len(new_ids)})
    final = _publish_directory(models, refreshed, published, fill, known_files)
    if not store.replace_model_version(version, refreshed):
        shutil.rmtree(final, ignore_errors=True)
        return 0
    if "refresh" in metadata:
        shutil.rmtree(directory, ignore_errors=True)
    return len(new_ids)
