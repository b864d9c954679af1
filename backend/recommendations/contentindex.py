"""The content component of served lists (with or without a trained model).

TF-IDF is fitted on the papers of the requested window (cached per worker until the set of
papers changes); a user's profile is built from the TF-IDF vectors of the papers they opened
or saved (:func:`recommender.content.shared_terms_profiles`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from cachetools import LRUCache
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from backend.recommendations.reasons import Evidence, nearest_similarity
from backend.recommendations.texts import paper_texts
from recommender.content import shared_terms_profiles
from recommender.textfeatures import TOKEN_PATTERN

#: Windows whose TF-IDF index a worker keeps.
CACHE_SIZE = 4
#: Vectors of papers outside a window (users' older papers) kept per window index.
OUTSIDE_CACHE_SIZE = 20_000
# Cosine (window TF-IDF) from which a user's paper is named in a reason.
MIN_SIMILARITY = 0.10


@dataclass
class WindowIndex:
    """TF-IDF fitted on one window's papers (``vectorizer`` None: no usable words), their
    L2-normalised rows, and the rows of papers outside the window computed so far (each as
    its column indices and values)."""

    vectorizer: TfidfVectorizer | None
    row_of: dict[str, int]
    matrix: sp.csr_matrix | None
    outside: LRUCache = field(default_factory=lambda: LRUCache(OUTSIDE_CACHE_SIZE))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def rows(self, paper_ids: Sequence[str]) -> np.ndarray:
        """Rows of ``matrix`` of papers of the window, in order."""
        return np.fromiter((self.row_of[p] for p in paper_ids), dtype=np.int64,
                           count=len(paper_ids))


class ContentIndex:
    """TF-IDF vectors of a window's papers, and user-profile scores against them."""

    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        self._windows: LRUCache = LRUCache(CACHE_SIZE)

    def window(self, paper_ids: Sequence[str]) -> WindowIndex:
        """The index of a window's papers (fitted on first use, then kept)."""
        key = frozenset(paper_ids)
        with self._lock:
            hit = self._windows.get(key)
        if hit:
            return hit
        ids = sorted(key)
        texts = paper_texts(self.store, ids)
        vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True,
                                     token_pattern=TOKEN_PATTERN, dtype=np.float32)
        try:
            matrix = vectorizer.fit_transform(texts).tocsr()
        except ValueError:  # no usable words at all
            vectorizer, matrix = None, None
        entry = WindowIndex(vectorizer, {p: i for i, p in enumerate(ids)}, matrix)
        with self._lock:
            self._windows[key] = entry
        return entry

    def components(self, index: WindowIndex, rows: np.ndarray, weights: dict[str, float],
                   dismissed: set[str]) -> tuple[dict[str, np.ndarray], Evidence]:
        """Raw scores of the candidates, the window papers at ``rows`` of ``index``:
        ``"content"`` (cosine with the user's profile) and, with dismissals, ``"dismissed"``
        (highest cosine with a dismissed paper); and the evidence their reasons are checked
        against."""
        if index.vectorizer is None:
            return ({"content": np.zeros((1, len(rows)))},
                    Evidence([], None, None, None, None, MIN_SIMILARITY))
        user_ids = list(weights)
        user_matrix = self._vectors(index, user_ids)
        user_weights = sp.csr_matrix(np.array([[weights[p] for p in user_ids]], dtype=np.float32))
        profile = shared_terms_profiles(user_weights, user_matrix)
        scores = np.asarray(index.matrix @ np.asarray(profile).ravel())
        components = {"content": scores[rows][None, :]}
        if dismissed:
            rejected = self._vectors(index, sorted(dismissed))
            components["dismissed"] = nearest_similarity(index.matrix[rows], rejected)[None, :]
        return components, Evidence(user_ids, user_matrix, index.matrix, rows, None,
                                    MIN_SIMILARITY)

    def _vectors(self, index: WindowIndex, paper_ids: list[str]) -> sp.csr_matrix:
        """L2-normalised TF-IDF rows of papers, in or outside the window (those outside are
        featurised once per window index; an unknown paper's row is empty)."""
        with index.lock:
            known = {p: index.outside[p] for p in paper_ids
                     if p not in index.row_of and p in index.outside}
        missing = [p for p in paper_ids if p not in index.row_of and p not in known]
        if missing:
            rows = normalize(index.vectorizer.transform(paper_texts(self.store, missing)))
            fresh = {p: (rows.indices[rows.indptr[j]:rows.indptr[j + 1]].copy(),
                         rows.data[rows.indptr[j]:rows.indptr[j + 1]].copy())
                     for j, p in enumerate(missing)}
            with index.lock:
                index.outside.update(fresh)
            known.update(fresh)
        matrix = index.matrix
        parts = []
        for p in paper_ids:
            row = index.row_of.get(p)
            if row is None:
                parts.append(known[p])
            else:
                start, end = matrix.indptr[row], matrix.indptr[row + 1]
                parts.append((matrix.indices[start:end], matrix.data[start:end]))
        if not parts:
            return sp.csr_matrix((0, matrix.shape[1]), dtype=matrix.dtype)
        lengths = np.fromiter((len(indices) for indices, _ in parts), dtype=np.int64,
                              count=len(parts))
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        return sp.csr_matrix((np.concatenate([data for _, data in parts]),
                              np.concatenate([indices for indices, _ in parts]), indptr),
                             shape=(len(parts), matrix.shape[1]))
