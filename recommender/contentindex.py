"""Content-only ranking for when no model has been trained yet.

TF-IDF is fitted on the papers of the requested window (cached per worker until the set of
papers changes); a user's profile is built from the TF-IDF vectors of the papers they opened
or saved (:func:`recommender.content.shared_terms_profiles`).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from recommender.content import shared_terms_profiles
from recommender.reasons import Evidence, nearest_similarity
from recommender.textfeatures import TOKEN_PATTERN, paper_texts

CACHE_SIZE = 4
# Cosine (window TF-IDF) from which a user's paper is named in a reason.
MIN_SIMILARITY = 0.10


class ContentIndex:
    """TF-IDF vectors of a window's papers, and user-profile scores against them."""

    def __init__(self, store):
        self.store = store
        self._lock = threading.Lock()
        self._cache: dict[frozenset[str], tuple[TfidfVectorizer, dict[str, int], Any]] = {}

    def _index(self, paper_ids: Sequence[str]):
        key = frozenset(paper_ids)
        with self._lock:
            hit = self._cache.get(key)
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
        entry = (vectorizer, {p: i for i, p in enumerate(ids)}, matrix)
        with self._lock:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = entry
        return entry

    def components(self, window: Sequence[str], keep: np.ndarray, weights: dict[str, float],
                   dismissed: set[str]) -> tuple[dict[str, np.ndarray], Evidence]:
        """Raw scores of the window's papers where ``keep``: ``"content"`` (cosine with the
        user's profile) and, with dismissals, ``"dismissed"`` (highest cosine with a
        dismissed paper); and the evidence their reasons are checked against."""
        vectorizer, row_of, matrix = self._index(window)
        n = int(keep.sum())
        if vectorizer is None:
            return ({"content": np.zeros((1, n))},
                    Evidence([], None, None, None, None, MIN_SIMILARITY))
        user_ids = list(weights)
        user_matrix = self._vectors(vectorizer, row_of, matrix, user_ids)
        user_weights = sp.csr_matrix(np.array([[weights[p] for p in user_ids]], dtype=np.float32))
        profile = shared_terms_profiles(user_weights, user_matrix)
        rows = np.array([row_of[p] for p, kept in zip(window, keep, strict=True) if kept],
                        dtype=np.int64)
        candidates = matrix[rows]
        components = {"content": np.asarray(candidates @ profile.T).ravel()[None, :]}
        if dismissed:
            rejected = self._vectors(vectorizer, row_of, matrix, sorted(dismissed))
            components["dismissed"] = nearest_similarity(candidates, rejected)[None, :]
        return components, Evidence(user_ids, user_matrix, matrix, rows, None,
                                    MIN_SIMILARITY)

    def _vectors(self, vectorizer, row_of: dict[str, int], matrix, paper_ids: list[str]):
        """L2-normalised TF-IDF rows of papers, in or outside the window."""
        outside = [p for p in paper_ids if p not in row_of]
        texts = dict(zip(outside, paper_texts(self.store, outside), strict=True)) if outside else {}
        rows = [matrix[row_of[p]] if p in row_of else vectorizer.transform([texts[p]])
                for p in paper_ids]
        return normalize(sp.vstack(rows).tocsr())
