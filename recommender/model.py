"""The hybrid model: implicit ALS + TF-IDF content, with text -> factor maps for cold items."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp

from .collaborative import Bm25, fit_als, solve_users
from .content import TfidfModel, knn_map, ridge_map
from .errors import ArtifactError, ModelFitError
from .files import atomic_directory

__all__ = ["DEFAULT_PARAMS", "FORMAT_VERSION", "HybridModel", "train", "load", "blend", "zscore"]

FORMAT_VERSION = 1

#: Defaults chosen on validation splits carved from the training data (``python -m
#: recommender.tune``); see docs/evaluation.md.
DEFAULT_PARAMS: dict[str, Any] = {
    "factors": 112,
    "regularization": 1.0,
    "alpha": 5.0,
    "iterations": 10,
    "bm25_k1": 100.0,
    "bm25_b": 0.8,
    "sublinear_tf": True,
    "text_mass": 4.4,  # words as pseudo-users in the ALS matrix, with a total weight of
    # text_mass x the total bm25 weight of the saves (0: no words)
    "ridge_alpha": 1.0,
    "knn_k": 20,
    "map_knn_weight": 0.7,  # text map = w * knn map + (1 - w) * ridge map
    "fold_map_weight": 0.8,  # factors of items without readers = (1 - w) * fold-in on the
    # word pseudo-users + w * text map of the learned factors, at one length (unit rows times
    # the calibrated map_scale)
    "weights": {"als": 0.85, "content": 0.15, "popularity": 0.0, "nearest": 0.2},
    "nearest_items": 32,  # the "nearest" component compares candidates with at most this many
    # of the user's items (the strongest weights)
    "ensemble": 2,  # independent ALS fits (seeds random_state, random_state + 1, ...) whose
    # scores are summed: each has its own user solve and text maps (see docs/evaluation.md)
    "random_state": 0,
    "num_threads": 0,
}


#: Arrays of one ALS ensemble member. Member 0's are stored under these names (the layout of a
#: single-member model), member m's under ``member_key(name, m)``.
MEMBER_ARRAYS = ("item_factors", "learned_factors", "yty", "ridge_coef", "word_factors", "xtx",
                 "map_scale")


def member_key(name: str, member: int) -> str:
    """Array name of ``name`` for ensemble member ``member``."""
    return name if member == 0 else f"{name}.m{member}"


def zscore(scores: np.ndarray) -> np.ndarray:
    """Standardise each row (mean 0, std 1); constant rows become 0.

    Parameters
    ----------
    scores : numpy.ndarray
        k x n.

    Returns
    -------
    numpy.ndarray
    """
    s = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    mu = s.mean(axis=1, keepdims=True)
    sd = s.std(axis=1, keepdims=True)
    return np.divide(s - mu, sd, out=np.zeros_like(s), where=sd > 1e-12)


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm; zero rows stay zero."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 1e-12)


def blend(components: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """Weighted sum of the z-scored components (each z-scored over the candidates per row).

    Components without a weight, or with weight 0, are ignored; a 1 x n component (one row
    for every user, such as trending) is broadcast over the k rows of the others. This is
    exactly what :meth:`HybridModel.score` does, so a caller adding its own component (e.g.
    trending) can reproduce and extend the product's score.

    Parameters
    ----------
    components : dict of str to numpy.ndarray
        Raw k x n scores per component.
    weights : dict of str to float

    Returns
    -------
    numpy.ndarray
        k x n blended scores.
    """
    out = None
    shape = None
    for name, raw in components.items():
        raw = np.atleast_2d(np.asarray(raw, dtype=np.float64))
        shape = raw.shape if shape is None else np.broadcast_shapes(shape, raw.shape)
        weight = float(weights.get(name, 0.0))
        if weight == 0.0:
            continue
        part = weight * zscore(raw)
        out = part if out is None else out + part
    if out is None:
        return np.zeros(shape if shape is not None else (1, 0))
    return np.broadcast_to(out, shape).copy() if out.shape != shape else out


class HybridModel:
    """Trained hybrid recommender. Build with :func:`train`, restore with :func:`load`.

    Item ids are column indices of the training matrix; items added with :meth:`add_items`
    get the following ids.
    """

    def __init__(self, params: dict[str, Any], arrays: dict[str, np.ndarray],
                 bm25: Bm25, tfidf: TfidfModel | None, feature_names: list[str] | None = None):
        self.params = params
        self.arrays = arrays
        self.bm25 = bm25
        self.tfidf = tfidf
        self.feature_names = feature_names
        self.n_train_items = int(arrays["item_factors"].shape[0])
        self.members = int(params.get("ensemble", 1))
        # Added items' factors, all members side by side (as _factors_of returns them).
        self._extra_factors = np.zeros((0, self.members * self.factors), dtype=np.float32)
        self._extra_vectors: sp.csr_matrix | None = None
        self._item_vectors_cache: sp.csr_matrix | None = None
        self._candidate_rows: tuple[bytes, sp.csr_matrix | None, sp.csr_matrix] | None = None
        self._candidate_factor_rows: tuple[tuple[bytes, int], np.ndarray, np.ndarray | None] | None = None

    # ------------------------------------------------------------------ properties
    @property
    def factors(self) -> int:
        """Factors of one ensemble member."""
        return int(self.arrays["item_factors"].shape[1])

    def _member(self, m: int, name: str) -> np.ndarray:
        return self.arrays[member_key(name, m)]

    @property
    def n_items(self) -> int:
        """Number of scorable items (training items + added items)."""
        return self.n_train_items + self._extra_factors.shape[0]

    @property
    def has_content(self) -> bool:
        return self.tfidf is not None

    @property
    def weights(self) -> dict[str, float]:
        return dict(self.params["weights"])

    def item_vectors(self) -> sp.csr_matrix | None:
        """TF-IDF rows of all items (training + added), or None without content."""
        if not self.has_content:
            return None
        if self._item_vectors_cache is None:
            a = self.arrays
            base = sp.csr_matrix((a["tfidf_data"], a["tfidf_indices"], a["tfidf_indptr"]),
                                 shape=(self.n_train_items, len(self.tfidf.idf)))
            if self._extra_vectors is not None:
                base = sp.vstack([base, self._extra_vectors], format="csr")
            self._item_vectors_cache = base
        return self._item_vectors_cache

    def _content_scores(self, rows: sp.csr_matrix, items: np.ndarray) -> np.ndarray:
        """Cosine of each user's profile (the weighted mean of its items' rows) with each item's TF-IDF row.

        The profiles are made dense, so the product is sparse x dense (several times faster
        than sparse x sparse, for one user as for a batch).
        """
        profiles = unit_rows((rows @ self.item_vectors()).toarray())
        return np.asarray(self._candidate_vectors(items) @ profiles.T).T

    def _candidate_vectors(self, items: np.ndarray) -> sp.csr_matrix:
        """TF-IDF rows of ``items``; the last candidate set's rows are reused (serving scores
        the same window for every user until its ranking changes)."""
        key = items.tobytes()
        cached = self._candidate_rows
        if cached is not None and cached[0] == key and cached[1] is self._item_vectors_cache:
            return cached[2]
        rows = self.item_vectors()[items]
        self._candidate_rows = (key, self._item_vectors_cache, rows)
        return rows

    def _factors_of(self, items: np.ndarray, member: int | None = None) -> np.ndarray:
        """Item factors of ``items``: one member's, or (``member`` None) every member's side
        by side, so that ``user_factors(rows) @ _factors_of(items).T`` is the ALS score."""
        items = np.asarray(items, dtype=np.int64)
        if len(items) and (items.min() < 0 or items.max() >= self.n_items):
            raise IndexError(f"item ids must be in [0, {self.n_items})")
        ms = range(self.members) if member is None else [member]
        old = items < self.n_train_items
        if old.all():
            parts = [np.asarray(self._member(m, "item_factors")[items]) for m in ms]
            return parts[0] if len(parts) == 1 else np.hstack(parts)
        f = self.factors
        out = np.empty((len(items), len(ms) * f), dtype=np.float32)
        old_ids, new_ids = items[old], items[~old] - self.n_train_items
        for j, m in enumerate(ms):
            block = out[:, j * f:(j + 1) * f]  # a view
            block[old] = self._member(m, "item_factors")[old_ids]
            block[~old] = self._extra_factors[new_ids, m * f:(m + 1) * f]
        return out

    def _candidate_factors(self, items: np.ndarray, unit: bool = False) -> np.ndarray:
        """``_factors_of(items)`` (``unit``: with unit rows), reused for the same candidates
        (serving scores one window for every user) until items are added."""
        key = (items.tobytes(), self.n_items)
        cached = self._candidate_factor_rows
        if cached is None or cached[0] != key:
            cached = self._candidate_factor_rows = (key, self._factors_of(items), None)
        if not unit:
            return cached[1]
        if cached[2] is None:
            cached = self._candidate_factor_rows = (key, cached[1], unit_rows(cached[1]))
        return cached[2]

    def _confidence(self, rows: sp.csr_matrix) -> sp.csr_matrix:
        conf = self.bm25.transform(rows)
        conf.data *= self.params["alpha"]
        conf.eliminate_zeros()
        return conf

    def _rows(self, user_rows: sp.spmatrix) -> sp.csr_matrix:
        rows = sp.csr_matrix(user_rows, dtype=np.float32)
        if rows.shape[1] > self.n_items:
            raise ValueError(f"user_rows has {rows.shape[1]} columns, model knows {self.n_items}")
        if rows.shape[1] < self.n_items:
            rows = sp.csr_matrix((rows.data, rows.indices, rows.indptr),
                                 shape=(rows.shape[0], self.n_items))
        if rows.nnz and rows.data.min() < 0:
            raise ValueError("user_rows must be nonnegative")
        return rows

    def user_factors(self, user_rows: sp.spmatrix) -> np.ndarray:
        """ALS vectors of users from their current interactions.

        Returns k x (members x factors): each ensemble member's vector, solved against that
        member's item factors, side by side (the layout of ``_factors_of``)."""
        conf = self._confidence(self._rows(user_rows))
        return np.hstack([
            solve_users(conf, lambda ids, m=m: self._factors_of(ids, m),
                        self._member(m, "yty"), self.params["regularization"])
            for m in range(self.members)])

    # ------------------------------------------------------------------ scoring
    def component_scores(self, user_rows: sp.spmatrix, items: np.ndarray,
                         nearest: bool | None = None, content: bool = True
                         ) -> dict[str, np.ndarray]:
        """Raw per-component scores, each k x len(items).

        Keys: ``"als"`` (user vector . item factors, summed over the ensemble members;
        cold/added items use their text-mapped factors), ``"content"`` (cosine of the user's
        TF-IDF profile and the item's; only with content and ``content``), ``"popularity"`` (log(1 + training
        saves); 0 for cold and added items) and, when its weight is not 0 (or ``nearest`` is
        true), ``"nearest"`` (see :meth:`nearest_scores`).

        Parameters
        ----------
        user_rows : scipy.sparse.csr_matrix
            k x n_items interactions (fewer columns are padded).
        items : array-like of int
            Candidate item ids.
        nearest : bool, optional
            Compute ``"nearest"``; by default only when the model's weight for it is not 0.
        content : bool
            Compute ``"content"`` (callers with their own text profile leave it out).

        Returns
        -------
        dict of str to numpy.ndarray
        """
        rows = self._rows(user_rows)
        items = np.asarray(items, dtype=np.int64).ravel()
        out: dict[str, np.ndarray] = {}
        uf = self.user_factors(rows)
        out["als"] = uf @ self._candidate_factors(items).T
        if content and self.has_content:
            out["content"] = self._content_scores(rows, items)
        pop = np.zeros(len(items), dtype=np.float32)
        old = items < self.n_train_items
        pop[old] = self.arrays["popularity"][items[old]]
        out["popularity"] = np.tile(np.log1p(pop), (rows.shape[0], 1))
        if nearest or (nearest is None and self.weights.get("nearest", 0.0) != 0.0):
            out["nearest"] = self._nearest(rows, items)
        return out

    def nearest_scores(self, user_rows: sp.spmatrix, items: np.ndarray,
                       chunk_rows: int = 256) -> np.ndarray:
        """Per user and candidate, the highest cosine between the candidate's ALS factors
        (every member's side by side) and those of the user's items.

        The ALS user vector averages a reader's topics; the nearest item keeps each of them,
        so a candidate close to one of several interests is not diluted by the others. Only
        the user's ``nearest_items`` strongest items are compared (ties: the later column).

        Returns
        -------
        numpy.ndarray
            k x len(items); 0 for users without items.
        """
        return self._nearest(self._rows(user_rows), np.asarray(items, dtype=np.int64).ravel(),
                             chunk_rows)

    def _nearest(self, rows: sp.csr_matrix, items: np.ndarray,
                 chunk_rows: int = 256) -> np.ndarray:
        """:meth:`nearest_scores` of rows already checked by ``_rows``."""
        cap = int(self.params.get("nearest_items", 32))
        chosen = []
        for j in range(rows.shape[0]):
            lo, hi = rows.indptr[j], rows.indptr[j + 1]
            positive = rows.data[lo:hi] > 0
            cols, vals = rows.indices[lo:hi][positive], rows.data[lo:hi][positive]
            if cap and len(cols) > cap:
                cols = cols[np.lexsort((-cols, -vals))[:cap]]
            chosen.append(cols)
        out = np.zeros((rows.shape[0], len(items)), dtype=np.float32)
        if not len(items):
            return out
        candidates = self._candidate_factors(items, unit=True).T
        # Users in chunks of about chunk_rows items: one matrix product per chunk, then the
        # maximum over each user's rows (small chunks: the product stays in cache, 2.5x faster
        # than 4096 rows against 26k candidates).
        j = 0
        while j < len(chosen):
            end, size = j, 0
            while end < len(chosen) and (end == j or size + len(chosen[end]) <= chunk_rows):
                size += len(chosen[end])
                end += 1
            block = [c for c in chosen[j:end] if len(c)]
            if block:
                sims = unit_rows(self._factors_of(np.concatenate(block))) @ candidates
                lengths = np.array([len(c) for c in block])
                maxima = np.maximum.reduceat(sims, np.r_[0, np.cumsum(lengths)[:-1]], axis=0)
                out[[u for u in range(j, end) if len(chosen[u])]] = maxima
            j = end
        return out

    def blend(self, components: dict[str, np.ndarray],
              weights: dict[str, float] | None = None) -> np.ndarray:
        """Blend raw components with the model's weights (or ``weights``); see :func:`blend`."""
        return blend(components, self.weights if weights is None else weights)

    def score(self, user_rows: sp.spmatrix, items: np.ndarray) -> np.ndarray:
        """Scores of candidate items for each user, higher is better.

        Parameters
        ----------
        user_rows : scipy.sparse.csr_matrix
            k x n_items, the users' current interactions (users may be unseen in training).
        items : array-like of int
            1-D candidate item ids.

        Returns
        -------
        numpy.ndarray
            Dense k x len(items).
        """
        return self.blend(self.component_scores(user_rows, items))

    # ------------------------------------------------------------------ new items
    def _map_factors(self, vectors: sp.csr_matrix) -> np.ndarray:
        """Factors of items from their TF-IDF rows, every member side by side: each member's
        text map at unit length, times its calibrated ``map_scale``."""
        return np.hstack([
            (np.float32(self._member(m, "map_scale")[0]) * unit_rows(mapped)).astype(np.float32)
            for m, mapped in enumerate(self._raw_maps(vectors))])

    def _raw_maps(self, vectors: sp.csr_matrix) -> list[np.ndarray]:
        """Each member's uncalibrated text map of ``vectors``: the fold-in on the word
        pseudo-users mixed with the kNN and ridge maps of the learned factors (see
        docs/evaluation.md)."""
        p = self.params
        map_weight = float(p["fold_map_weight"])
        folded = []
        if self._has_words:
            confidence = sp.csr_matrix(vectors, dtype=np.float32) * (
                float(p["text_weight"]) * float(p["alpha"]))
            for m in range(self.members):
                words = np.asarray(self._member(m, "word_factors"))
                folded.append(solve_users(confidence, lambda ids, w=words: w[ids],
                                          self._member(m, "xtx"), float(p["regularization"])))
        else:
            map_weight = 1.0
        knn_weight = float(p["map_knn_weight"])
        # One neighbour search for all members: their warm factors side by side.
        warm = self.arrays["warm_items"]
        base = self.item_vectors()[: self.n_train_items][warm]
        learned = np.hstack([np.asarray(self._member(m, "learned_factors")[warm])
                             for m in range(self.members)])
        knn = np.hsplit(knn_map(vectors, base, learned, int(p["knn_k"])), self.members)
        out = []
        for m in range(self.members):
            mapped = knn_weight * knn[m] + (1 - knn_weight) * (vectors @ self._member(m, "ridge_coef"))
            if map_weight < 1.0:
                mapped = (1.0 - map_weight) * folded[m] + map_weight * mapped
            out.append(np.asarray(mapped, dtype=np.float32))
        return out

    @property
    def _has_words(self) -> bool:
        return float(self.params.get("text_weight", 0.0)) > 0 and self._member(0, "word_factors").shape[0] > 0

    def add_items(self, item_features: sp.spmatrix) -> np.ndarray:
        """Make items that arrived after training scorable from their raw feature rows.

        The model is extended in place; the saved arrays (possibly memory-mapped and shared
        between processes) are not copied.

        Parameters
        ----------
        item_features : scipy.sparse.csr_matrix
            m x features raw counts, same feature space as training.

        Returns
        -------
        numpy.ndarray
            The m new item ids.
        """
        feats = sp.csr_matrix(item_features, dtype=np.float32)
        m = feats.shape[0]
        if self.has_content:
            vec = self.tfidf.transform(feats)
            factors = self._map_factors(vec)
            prev = self._extra_vectors
            self._extra_vectors = vec if prev is None else sp.vstack([prev, vec], format="csr")
            self._item_vectors_cache = None
        else:
            factors = np.zeros((m, self.members * self.factors), dtype=np.float32)
        ids = np.arange(self.n_items, self.n_items + m)
        self._extra_factors = np.vstack([self._extra_factors, factors])
        return ids

    def readers(self, items: np.ndarray) -> np.ndarray:
        """Number of training users who read each item (0 for items added after training)."""
        items = np.asarray(items, dtype=np.int64)
        out = np.zeros(items.shape, dtype=np.float32)
        old = items < self.n_train_items
        out[old] = np.asarray(self.arrays["popularity"])[items[old]]
        return out

    def scale_cold_items(self, factor: float) -> None:
        """Multiply the factors of items without training readers (cold and added items, and
        items added later) by ``factor``.

        Their factors come from their text, not from readers; how loud they should be next
        to papers readers chose is a property of the data, chosen on validation windows
        (:func:`recommender.adapt.adapt`). The factor is kept in ``params["cold_scale"]``
        (the saved arrays already include it).
        """
        factor = float(factor)
        cold = np.asarray(self.arrays["popularity"]) == 0
        for m in range(self.members):
            factors = np.array(self._member(m, "item_factors"), dtype=np.float32)
            factors[cold] *= factor
            self.arrays[member_key("item_factors", m)] = factors
            self.arrays[member_key("map_scale", m)] = np.asarray(self._member(m, "map_scale")) * factor
        self._extra_factors = self._extra_factors * np.float32(factor)
        self._candidate_factor_rows = None
        self.params["cold_scale"] = float(self.params.get("cold_scale", 1.0)) * factor

    # ------------------------------------------------------------------ persistence
    def save(self, directory: str) -> None:
        """Write the model to ``directory`` atomically (temp dir in the same parent + rename).

        Arrays are plain ``.npy`` files (loadable with ``np.load(mmap_mode="r")``), plus
        ``metadata.json`` with the format version, sizes, params and per-file sizes. Items added
        with :meth:`add_items` are not saved. An existing ``directory`` is replaced.
        """
        with atomic_directory(directory) as tmp:
            files = {}
            for name, arr in self.arrays.items():
                path = tmp / (name + ".npy")
                np.save(path, np.asarray(arr))
                files[name] = {"bytes": path.stat().st_size, "shape": list(np.shape(arr)),
                               "dtype": str(np.asarray(arr).dtype)}
            meta = {
                "format": "paperfeed-hybrid",
                "format_version": FORMAT_VERSION,
                "n_items": self.n_train_items,
                "factors": self.factors,
                "has_content": self.has_content,
                "params": self.params,
                "bm25": {"average_length": self.bm25.average_length, "k1": self.bm25.k1,
                         "b": self.bm25.b},
                "sublinear_tf": self.tfidf.sublinear_tf if self.tfidf else None,
                "feature_names": self.feature_names,
                "files": files,
            }
            (tmp / "metadata.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")


_REQUIRED = ("item_factors", "learned_factors", "yty", "bm25_idf", "popularity", "warm_items",
             "ridge_coef", "word_factors", "xtx", "map_scale")
_CONTENT = ("tfidf_idf", "tfidf_data", "tfidf_indices", "tfidf_indptr")


def load(directory: str, mmap: bool = True,
         files: Mapping[str, bytes] | None = None) -> HybridModel:
    """Load a model written by :meth:`HybridModel.save`.

    Parameters
    ----------
    directory : str
    mmap : bool
        Memory-map the arrays read-only (shared between processes through the page cache).
    files : mapping of str to bytes, optional
        The directory's files already read (by name relative to ``directory``): the model is
        built from these bytes, without reading or mapping the directory.

    Returns
    -------
    HybridModel

    Raises
    ------
    ArtifactError
        Missing/unreadable metadata, unknown format version, missing or truncated arrays,
        shape mismatches, or non-finite values.
    """
    mpath = os.path.join(directory, "metadata.json")
    try:
        if files is not None:
            meta = json.loads(files["metadata.json"])
        else:
            with open(mpath, encoding="utf-8") as fh:
                meta = json.load(fh)
    except (KeyError, OSError, ValueError) as exc:
        raise ArtifactError(f"{directory}: cannot read metadata.json: {exc}") from exc
    if meta.get("format") != "paperfeed-hybrid" or meta.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(f"{directory}: unsupported format {meta.get('format')!r} "
                            f"version {meta.get('format_version')!r}")
    members = int(meta.get("params", {}).get("ensemble", 1))
    names = _REQUIRED + (_CONTENT if meta.get("has_content") else ()) + tuple(
        member_key(name, m) for m in range(1, members) for name in MEMBER_ARRAYS)
    arrays: dict[str, np.ndarray] = {}
    for name in names:
        path = os.path.join(directory, name + ".npy")
        info = meta.get("files", {}).get(name)
        try:
            if info is None:
                raise ArtifactError("not listed in metadata")
            if files is not None:
                if name + ".npy" not in files:
                    raise ArtifactError("missing")
                arr = _array_from_bytes(files[name + ".npy"])
            else:
                if os.path.getsize(path) != info["bytes"]:
                    raise ArtifactError(f"size {os.path.getsize(path)} != {info['bytes']}")
                arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
            if list(arr.shape) != info["shape"]:
                raise ArtifactError(f"shape {arr.shape} != {info['shape']}")
        except ArtifactError as exc:
            raise ArtifactError(f"{directory}/{name}.npy: {exc}") from None
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{directory}/{name}.npy: unreadable: {exc}") from exc
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            raise ArtifactError(f"{directory}/{name}.npy: contains NaN or inf")
        arrays[name] = arr
    n, f = meta["n_items"], meta["factors"]
    for m in range(members):
        if (arrays[member_key("item_factors", m)].shape != (n, f)
                or arrays[member_key("yty", m)].shape != (f, f)):
            raise ArtifactError(f"{directory}: factor shapes disagree with metadata")
    b = meta["bm25"]
    bm25 = Bm25(arrays["bm25_idf"], b["average_length"], b["k1"], b["b"])
    tfidf = TfidfModel(arrays["tfidf_idf"], meta["sublinear_tf"]) if meta["has_content"] else None
    return HybridModel(meta["params"], arrays, bm25, tfidf, meta.get("feature_names"))


def _array_from_bytes(data: bytes) -> np.ndarray:
    """A read-only array over the bytes of a ``.npy`` file (no copy)."""
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        return np.load(io.BytesIO(data), allow_pickle=False)
    if dtype.hasobject:
        raise ValueError("object arrays are not loaded")
    count = int(np.prod(shape, dtype=np.int64))
    if len(data) - stream.tell() != count * dtype.itemsize:
        raise ValueError(f"{len(data) - stream.tell()} data bytes for shape {shape}")
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=stream.tell())
    return arr.reshape(shape, order="F" if fortran else "C")


def train(user_items: sp.spmatrix, item_features: sp.spmatrix | None = None,
          params: dict[str, Any] | None = None,
          feature_names: list[str] | None = None) -> HybridModel:
    """Train the hybrid model.

    Parameters
    ----------
    user_items : scipy.sparse.csr_matrix
        Users x items, nonnegative weights. Items with an empty column are cold.
    item_features : scipy.sparse.csr_matrix, optional
        Items x features counts (e.g. words). Without it the model is collaborative only.
    params : dict, optional
        Overrides of :data:`DEFAULT_PARAMS` (``weights`` is merged key by key).
    feature_names : list of str, optional
        Names of the feature columns (kept with the model).

    Returns
    -------
    HybridModel

    Raises
    ------
    ModelFitError
        Non-finite input or factors, or a failure inside ALS.
    ValueError
        Bad shapes or negative weights.

    Example usage::

        model = recommender.train(user_items, item_features, {"random_state": 1})
        scores = model.score(user_items[:1], np.arange(user_items.shape[1]))
    """
    p = {**DEFAULT_PARAMS, **(params or {})}
    p["weights"] = {**DEFAULT_PARAMS["weights"], **((params or {}).get("weights") or {})}
    ui = sp.csr_matrix(user_items, dtype=np.float32)
    ui.sum_duplicates()
    if not np.isfinite(ui.data).all():
        raise ModelFitError("user_items contains NaN or inf")
    if ui.nnz and ui.data.min() < 0:
        raise ValueError("user_items must be nonnegative")
    ui.eliminate_zeros()
    n_items = ui.shape[1]
    if item_features is not None:
        item_features = sp.csr_matrix(item_features, dtype=np.float32)
        if item_features.shape[0] != n_items:
            raise ValueError(f"item_features has {item_features.shape[0]} rows, "
                             f"user_items {n_items} columns")
        if not np.isfinite(item_features.data).all():
            raise ModelFitError("item_features contains NaN or inf")
        if item_features.nnz == 0:
            item_features = None
    members = int(p["ensemble"])
    if members < 1:
        raise ValueError("ensemble must be at least 1")

    bm25 = Bm25.fit(ui, p["bm25_k1"], p["bm25_b"])
    weighted = bm25.transform(ui)
    weighted.eliminate_zeros()
    tfidf = vectors = None
    if item_features is not None:
        tfidf = TfidfModel.fit(item_features, bool(p["sublinear_tf"]))
        vectors = tfidf.transform(item_features)
    # Words as pseudo-users who "saved" the items containing them, with a total weight of
    # text_mass x the saves' (relative, so the balance does not depend on the data's size):
    # items without readers get factors in the same space, and new items fold in the same way.
    text_weight = 0.0
    if vectors is not None and vectors.nnz and float(p["text_mass"]) > 0:
        text_weight = float(p["text_mass"]) * float(weighted.data.sum()) / float(vectors.data.sum())
        weighted = sp.vstack([weighted, (text_weight * vectors.T).tocsr()], format="csr")
    p["text_weight"] = text_weight
    popularity = np.bincount(ui.indices, minlength=n_items).astype(np.float32)
    warm = np.flatnonzero(popularity > 0)
    cold = popularity == 0
    arrays: dict[str, np.ndarray] = {"popularity": popularity,
                                     "warm_items": warm.astype(np.int64),
                                     "bm25_idf": bm25.idf.astype(np.float64)}
    if vectors is not None:
        arrays.update(tfidf_idf=tfidf.idf, tfidf_data=vectors.data.astype(np.float32),
                      tfidf_indices=vectors.indices.astype(np.int32),
                      tfidf_indptr=vectors.indptr.astype(np.int64))
    # Gram matrices of the training users' factors, per member (for the calibration below).
    user_grams = [_fit_member(weighted, ui.shape[0], vectors, text_weight, warm, p, arrays, m)
                  for m in range(members)]
    model = HybridModel(p, arrays, bm25, tfidf, feature_names)
    if vectors is not None:
        _calibrate_maps(model, vectors, warm, user_grams, int(p["random_state"]))
    for m in range(members):
        learned = arrays[member_key("learned_factors", m)]
        learned[cold] = 0.0  # user vectors are solved against the readers' factors only
        arrays[member_key("yty", m)] = learned.T.astype(np.float64) @ learned
    effective = np.hstack([arrays[member_key("learned_factors", m)] for m in range(members)])
    if vectors is not None and cold.any():
        effective[cold] = model._map_factors(vectors[np.flatnonzero(cold)])
    if not np.isfinite(effective).all():
        raise ModelFitError("non-finite mapped item factors")
    for m, part in enumerate(np.hsplit(effective.astype(np.float32), members)):
        arrays[member_key("item_factors", m)] = np.ascontiguousarray(part)
    return model


def _calibrate_maps(model: HybridModel, vectors: sp.csr_matrix, warm: np.ndarray,
                    user_grams: list[np.ndarray], seed: int) -> None:
    """Set each member's ``map_scale``: text-mapped factors are shrunk (no saves pull them
    out), so their length is calibrated on warm items for items without readers to compete
    with the others. Least-squares scalar s with learned ~ s * unit(mapped) in the metric of
    the training users' scores, at least the raw map's mean length."""
    sample = warm[np.diff(vectors.indptr)[warm] > 0]
    if not len(sample):
        return
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(sample, size=min(len(sample), 4000), replace=False))
    for m, mapped in enumerate(model._raw_maps(vectors[sample])):
        mapped = mapped.astype(np.float64)
        floor = float(np.linalg.norm(mapped, axis=1).mean())
        unit = unit_rows(mapped).astype(np.float64)
        weighted_unit = unit @ user_grams[m]
        norm = float((weighted_unit * unit).sum())
        learned = model._member(m, "learned_factors")[sample]
        scale = float((weighted_unit * learned).sum()) / norm if norm > 0 else floor
        model.arrays[member_key("map_scale", m)] = np.array([min(max(scale, floor), 50.0 * floor)])


def _fit_member(weighted: sp.csr_matrix, n_users: int, vectors: sp.csr_matrix | None,
                text_weight: float, warm: np.ndarray, p: dict[str, Any],
                arrays: dict[str, np.ndarray], member: int) -> np.ndarray:
    """Fit ensemble member ``member`` (ALS with seed ``random_state + member``, then its ridge
    text map) into ``arrays``; return the Gram matrix of its training users' factors."""
    try:
        row_factors, learned = fit_als(weighted, int(p["factors"]), float(p["regularization"]),
                                       float(p["alpha"]), int(p["iterations"]),
                                       int(p["random_state"]) + member, int(p["num_threads"]))
    except Exception as exc:  # noqa: BLE001 - any failure inside implicit is a fit failure
        raise ModelFitError(f"ALS failed: {exc}") from exc
    if not (np.isfinite(learned).all() and np.isfinite(row_factors).all()):
        raise ModelFitError("ALS produced non-finite factors")
    learned = np.ascontiguousarray(learned, dtype=np.float32)
    f = learned.shape[1]
    users = np.asarray(row_factors[:n_users], dtype=np.float64)
    words = np.asarray(row_factors[n_users:], dtype=np.float64)
    if vectors is None:
        ridge_coef = np.zeros((0, f), dtype=np.float32)
    else:
        fit_rows = warm[(np.diff(vectors.indptr) > 0)[warm]]
        ridge_coef = (ridge_map(vectors[fit_rows], learned[fit_rows], float(p["ridge_alpha"]))
                      if len(fit_rows) else np.zeros((vectors.shape[1], f), dtype=np.float32))
    key = lambda name: member_key(name, member)  # noqa: E731
    arrays.update({key("learned_factors"): learned, key("item_factors"): learned,
                   key("yty"): learned.T.astype(np.float64) @ learned,  # Gram as fitted
                   key("word_factors"): words.astype(np.float32),
                   key("xtx"): users.T @ users + words.T @ words,
                   key("ridge_coef"): ridge_coef, key("map_scale"): np.ones(1)})
    return users.T @ users
