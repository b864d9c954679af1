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

from recommender.content import shared_terms_profiles
from recommender.reasons import Evidence, nearest_similarity
from recommender.textfeatures import TOKEN_PATTERN, paper_texts

#: Windows whose TF-IDF index a worker keeps.
CACHE_SIZE = 4
#: Vectors of papers outside a window (users' older papers) kept per window index.
OUTSIDE_CACHE_SIZE = 20_000
# Cosine (window TF-IDF) from which a user's paper is named in a reason.
MIN_SIMILARITY = 0.10


@dataclass
class WindowIndex:
    """TF-IDF fitted on one window's papers (``vectorizer`` None: no usable words), their
    rows, and the rows of papers outside the window computed so far."""

    vectorizer: TfidfVectorizer | None
    row_of: dict[str, int]
    matrix: sp.csr_matrix | None
    outside: LRUCache = field(default_factory=lambda: LRUCache(OUTSIDE_CACHE_SIZE))
    lock: threading.Lock = field(default_factory=threading.Lock)


class ContentIndex:
    """TF-IDF vectors of a window's papers, and user-profile scores against them."""

    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        self._windows: LRUCache = LRUCache(CACHE_SIZE)

    def _index(self, paper_ids: Sequence[str]) -> WindowIndex:
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

    def components(self, window: Sequence[str], keep: np.ndarray, weights: dict[str, float],
                   dismissed: set[str]) -> tuple[dict[str, np.ndarray], Evidence]:
        """Raw scores of the window's papers where ``keep``: ``"content"`` (cosine with the
        user's profile) and, with dismissals, ``"dismissed"`` (highest cosine with a
        dismissed paper); and the evidence their reasons are checked against."""
        index = self._index(window)
        row_of, matrix = index.row_of, index.matrix
        n = int(keep.sum())
        if index.vectorizer is None:
            return ({"content": np.zeros((1, n))},
                    Evidence([], None, None, None, None, MIN_SIMILARITY))
        user_ids = list(weights)
        user_matrix = self._vectors(index, user_ids)
        user_weights = sp.csr_matrix(np.array([[weights[p] for p in user_ids]], dtype=np.float32))
        profile = shared_terms_profiles(user_weights, user_matrix)
        rows = np.array([row_of[p] for p, kept in zip(window, keep, strict=True) if kept],
                        dtype=np.int64)
        candidates = matrix[rows]
        components = {"content": np.asarray(candidates @ profile.T).ravel()[None, :]}
        if dismissed:
            rejected = self._vectors(index, sorted(dismissed))
            components["dismissed"] = nearest_similarity(candidates, rejected)[None, :]
        return components, Evidence(user_ids, user_matrix, matrix, rows, None,
                                    MIN_SIMILARITY)

    def _vectors(self, index: WindowIndex, paper_ids: list[str]) -> sp.csr_matrix:
        """L2-normalised TF-IDF rows of papers, in or outside the window (those outside are
        featurised once per window index)."""
        with index.lock:
            known = {p: index.outside[p] for p in paper_ids
                     if p not in index.row_of and p in index.outside}
        missing = [p for p in paper_ids if p not in index.row_of and p not in known]
        if missing:
            rows = normalize(index.vectorizer.transform(paper_texts(self.store, missing)))
            fresh = {p: rows[j] for j, p in enumerate(missing)}
            with index.lock:
                index.outside.update(fresh)
            known.update(fresh)
        rows = [index.matrix[index.row_of[p]] if p in index.row_of else known[p]
                for p in paper_ids]
        return normalize(sp.vstack(rows).tocsr())
