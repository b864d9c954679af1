"""``paperfeed train``: read interactions and the catalogue from Redis, train, evaluate, publish.

Publishing writes a versioned artifact directory atomically (a temporary directory in the
same parent, then ``os.rename``), and only then flips the current-version pointer in
Redis. A failed or NaN training raises and leaves the current model in place.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

import recommender
from recommender.metrics import ndcg_at_k, recall_at_k
from recommender.readers import save_readers
from recommender.textfeatures import TextFeaturizer, paper_texts
from recommender.threads import available_cpus, thread_map

ARTIFACT_FORMAT = 1
MODEL_SUBDIR = "model"
PAPER_IDS_FILE = "paper_ids.json"
VOCABULARY_FILE = "vocabulary.json"
METADATA_FILE = "metadata.json"
EVAL_USERS = 1000
EVAL_BATCH = 128  # users scored at once, per thread (128 x 50k papers: ~50 MB per component)


class TrainingError(Exception):
    """Training could not produce a model worth publishing."""


@dataclass
class TrainingData:
    """Everything a training run needs, read from the store."""

    paper_ids: list[str]
    user_items: sp.csr_matrix
    item_features: sp.csr_matrix
    featurizer: TextFeaturizer
    n_users: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    user_ids: list[str] = field(default_factory=list)  # of each row of user_items


def models_dir(config: dict[str, Any]) -> Path:
    """Where model versions live: ``PAPERFEED_MODELS_DIR`` or ``<data dir>/models``."""
    return Path(config.get("MODELS_DIR") or Path(config["DATA_DIR"]) / "models")


def new_version(now: datetime | None = None) -> str:
    """A sortable, unique model version name."""
    now = now or datetime.now(UTC)
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


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
    read_papers = time.perf_counter()

    user_ids: list[str] = []
    user_items = _user_matrix(_weights_and_registration(store), index, user_ids)
    read_users = time.perf_counter()

    featurizer, item_features = TextFeaturizer.fit_transform(texts, max_features=max_features)
    done = time.perf_counter()
    return TrainingData(
        paper_ids=paper_ids, user_items=user_items, item_features=item_features,
        featurizer=featurizer, n_users=user_items.shape[0], user_ids=user_ids,
        timings={"read_catalogue": read_papers - started, "read_interactions": read_users - read_papers,
                 "featurize": done - read_users},
    )


def _weights_and_registration(store) -> Iterator[tuple[list[tuple[str, dict[str, str]]], list[str]]]:
    """Batches of users' weights with their registration times."""
    for batch in store.iter_interaction_weights():
        yield batch, store.registration_times([user_id for user_id, _ in batch])


def _user_matrix(batches: Iterable[tuple[list[tuple[str, dict[str, str]]], list[str]]],
                 index: dict[str, int], user_ids: list[str] | None = None) -> sp.csr_matrix:
    """Users x papers weights of the users with any paper in ``index``, in registration order.

    Rows are in registration order, then user id order (users registered in the same
    instant), never Redis's set order, which differs between servers loading the same data:
    the same data trains the same model for a fixed random_state. Negative and non-finite
    weights are dropped.
    """
    lengths: list[int] = []
    cols: list[int | None] = []
    vals: list[str] = []
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


def holdout(user_items: sp.csr_matrix, fraction: float = 0.2, seed: int = 0,
            max_users: int = EVAL_USERS) -> tuple[sp.csr_matrix, dict[int, np.ndarray]]:
    """Hide ``fraction`` of the interactions of up to ``max_users`` users with >= 2 of them.

    Returns the training matrix and, per evaluated user row, the hidden item indices.
    """
    rng = np.random.default_rng(seed)
    counts = np.diff(user_items.indptr)
    eligible = np.flatnonzero(counts >= 2)
    if len(eligible) > max_users:
        eligible = rng.choice(eligible, size=max_users, replace=False)
    train = user_items.copy()
    hidden: dict[int, np.ndarray] = {}
    for row in np.sort(eligible):
        begin, end = user_items.indptr[row], user_items.indptr[row + 1]
        n_test = max(1, int(round(fraction * (end - begin))))
        positions = begin + rng.choice(end - begin, size=n_test, replace=False)
        hidden[int(row)] = user_items.indices[positions].copy()
        train.data[positions] = 0
    train.eliminate_zeros()
    return train, hidden


def evaluate(score_rows: Callable[[sp.csr_matrix], np.ndarray], train: sp.csr_matrix,
             hidden: dict[int, np.ndarray], num_threads: int = 0) -> dict[str, float]:
    """Mean nDCG@10 and recall@50 of a scorer over the held-out users.

    Batches of users are scored in ``num_threads`` threads (0: one per available CPU); the
    scorer must be thread-safe (the numpy/scipy products inside it release the GIL).
    """
    users = sorted(hidden)
    if not users:
        return {"nDCG@10": float("nan"), "R@50": float("nan"), "users": 0}
    batches = [users[start:start + EVAL_BATCH] for start in range(0, len(users), EVAL_BATCH)]

    def batch_metrics(batch: list[int]) -> list[tuple[float, float]]:
        scores = np.asarray(score_rows(train[batch]), dtype=np.float64)
        return [_user_metrics(scores[offset], train, row, hidden[row]) for offset, row in enumerate(batch)]

    results = thread_map(batch_metrics, batches, num_threads)
    ndcg, recall = zip(*(pair for batch in results for pair in batch), strict=True)
    return {"nDCG@10": float(np.mean(ndcg)), "R@50": float(np.mean(recall)), "users": len(users)}


def _user_metrics(user_scores: np.ndarray, train: sp.csr_matrix, row: int,
                  hidden_items: np.ndarray) -> tuple[float, float]:
    seen = train.indices[train.indptr[row]:train.indptr[row + 1]]
    user_scores[seen] = -np.inf
    k = min(50, len(user_scores))
    top = np.argpartition(-user_scores, k - 1)[:k]
    ranked = top[np.argsort(-user_scores[top], kind="stable")].tolist()
    relevant = set(hidden_items.tolist())
    return ndcg_at_k(ranked, relevant, 10), recall_at_k(ranked, relevant, 50)


def popularity_scorer(train: sp.csr_matrix) -> Callable[[sp.csr_matrix], np.ndarray]:
    """Everyone gets the same ranking: by number of users who interacted."""
    popularity = np.asarray((train > 0).sum(axis=0)).ravel().astype(np.float64)
    return lambda rows: np.tile(popularity, (rows.shape[0], 1))


def model_scorer(model, n_items: int) -> Callable[[sp.csr_matrix], np.ndarray]:
    """Score every item for a batch of user rows with a trained model."""
    items = np.arange(n_items)
    return lambda rows: model.score(rows, items)


def mapped_scorer(model, old_ids: list[str], new_ids: list[str]
                  ) -> Callable[[sp.csr_matrix], np.ndarray]:
    """Score with a model trained on another paper index (items it doesn't know rank last)."""
    old_index = {paper_id: i for i, paper_id in enumerate(old_ids)}
    mapping = np.array([old_index.get(p, -1) for p in new_ids])
    known = np.flatnonzero(mapping >= 0)
    to_old = sp.csr_matrix(
        (np.ones(len(known), dtype=np.float32), (known, mapping[known])),
        shape=(len(new_ids), len(old_ids)))

    def score(rows: sp.csr_matrix) -> np.ndarray:
        out = np.full((rows.shape[0], len(new_ids)), -np.inf)
        if len(known):
            out[:, known] = model.score((rows @ to_old).tocsr(), mapping[known])
        return out

    return score


def write_artifact(directory: Path, version: str, model, data: TrainingData,
                   metadata: dict[str, Any]) -> Path:
    """Write a model version atomically: temp dir in ``directory``, then rename."""
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / version
    temporary = directory / f".tmp-{version}"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir()
    try:
        model.save(temporary / MODEL_SUBDIR)
        with open(temporary / PAPER_IDS_FILE, "w", encoding="utf-8") as handle:
            json.dump(data.paper_ids, handle)
        data.featurizer.save(temporary / VOCABULARY_FILE)
        if len(data.user_ids) == data.user_items.shape[0]:
            save_readers(temporary, data.user_ids, data.user_items)
        with open(temporary / METADATA_FILE, "w", encoding="utf-8") as handle:
            json.dump(metadata, handle, indent=2, sort_keys=True)
        for path in temporary.rglob("*"):
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
        os.rename(temporary, final)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return final


def train_from_store(store, config: dict[str, Any], *, params: dict[str, Any] | None = None,
                     progress: Callable[[str], None] = lambda stage: None,
                     load_current: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Train a new model from the store and publish it. Returns its metadata.

    Raises ``TrainingError`` (or ``recommender.ModelFitError``) without touching the
    current model when there is nothing to learn from or the fit fails.
    """
    started = time.perf_counter()
    progress("read")
    data = read_training_data(store)
    if data.user_items.nnz == 0:
        raise TrainingError("no interactions in the store yet: nothing to train on")
    params = dict(params or {})

    params.setdefault("num_threads", available_cpus())

    # One fit: the published model is the one trained with the held-out slice hidden.
    # That slice is < 1% of interactions of a few thousand users, and serving recomputes
    # every user's vector from all their current interactions anyway.
    progress("fit")
    train, hidden = holdout(data.user_items, seed=int(params.get("random_state", 0)))
    fit_started = time.perf_counter()
    model = recommender.train(train, data.item_features, params)
    fit_seconds = time.perf_counter() - fit_started

    progress("evaluate")
    eval_started = time.perf_counter()
    metrics: dict[str, Any] = {}
    if hidden:
        threads = int(params["num_threads"])
        metrics["model"] = evaluate(model_scorer(model, len(data.paper_ids)), train, hidden, threads)
        metrics["popularity"] = evaluate(popularity_scorer(train), train, hidden, threads)
        current = load_current() if load_current else None
        if current is not None:
            metrics["current"] = evaluate(
                mapped_scorer(current.model, current.paper_ids, data.paper_ids), train, hidden, threads)
    eval_seconds = time.perf_counter() - eval_started

    progress("write")
    version = new_version()
    metadata = {
        "format": ARTIFACT_FORMAT,
        "version": version,
        "created_at": datetime.now(UTC).isoformat(),
        "n_users": int(data.user_items.shape[0]),
        "n_items": int(data.user_items.shape[1]),
        "n_interactions": int(data.user_items.nnz),
        "n_features": int(data.featurizer.n_features),
        "params": params,
        "metrics": metrics,
        "timings": {**data.timings, "evaluate": eval_seconds, "fit": fit_seconds},
    }
    write_started = time.perf_counter()
    write_artifact(models_dir(config), version, model, data, metadata)
    metadata["timings"]["write"] = time.perf_counter() - write_started

    progress("publish")
    store.set_current_model_version(version)
    metadata["timings"]["total"] = time.perf_counter() - started
    return metadata


ADDITIONS_FEATURES = "additions.npz"
ADDITIONS_IDS = "additions.json"


def refresh_additions(store, config: dict[str, Any]) -> int:
    """Featurise catalogue papers the current model has not seen; return how many.

    Writes ``additions.npz``/``additions.json`` into the current version's directory
    (atomically, by rename); serving workers map them into the model in one batch, so
    papers imported since the last training are scorable without per-request work.
    """
    version = store.current_model_version()
    if not version:
        return 0
    directory = models_dir(config) / version
    known = set(json.loads((directory / PAPER_IDS_FILE).read_text(encoding="utf-8")))
    featurizer = TextFeaturizer.load(directory / VOCABULARY_FILE)
    new_ids: list[str] = []
    texts: list[str] = []
    for chunk in store.iter_paper_ids():
        unseen = [p for p in chunk if p not in known]
        new_ids += unseen
        texts += paper_texts(store, unseen)
    features = featurizer.transform(texts)
    tmp_features = directory / f".tmp-{ADDITIONS_FEATURES}"
    tmp_ids = directory / f".tmp-{ADDITIONS_IDS}"
    sp.save_npz(tmp_features, features.tocsr(), compressed=False)
    tmp_ids.write_text(json.dumps(new_ids), encoding="utf-8")
    # ids first: a reader that sees new features always finds ids at least as new
    os.rename(tmp_ids, directory / ADDITIONS_IDS)
    os.rename(tmp_features, directory / ADDITIONS_FEATURES)
    return len(new_ids)
