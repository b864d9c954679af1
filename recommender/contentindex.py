"""Content-only ranking for when no model has been trained yet.

TF-IDF is fitted on the papers of the requested window (cached per worker until the set of
papers changes); a user's profile is the weighted mean of the TF-IDF vectors of the papers
they opened or saved.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from recommender.reasons import NearestPaperReasons
from recommender.textfeatures import TOKEN_PATTERN, paper_texts

CACHE_SIZE = 4
MIN_SIMILARITY = 0.08


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

    def rank(self, window: Sequence[str], candidates: Sequence[str],
             weights: dict[str, float]) -> tuple[np.ndarray, NearestPaperReasons]:
        """Cosine of each candidate with the user's profile, and the candidates' reasons."""
        vectorizer, row_of, matrix = self._index(window)
        if vectorizer is None:
            scores = np.zeros(len(candidates))
            return scores, NearestPaperReasons(self.store, [], None, None, weights,
                                               MIN_SIMILARITY, topical=scores)
        user_ids = list(weights)
        outside = [p for p in user_ids if p not in row_of]
        texts = dict(zip(outside, paper_texts(self.store, outside), strict=True)) if outside else {}
        rows = []
        for paper_id in user_ids:
            if paper_id in row_of:
                rows.append(matrix[row_of[paper_id]])
            else:
                rows.append(vectorizer.transform([texts[paper_id]]))
        user_matrix = normalize(sp.vstack(rows).tocsr())
        weight = np.array([weights[p] for p in user_ids], dtype=np.float32)
        profile = normalize(user_matrix.multiply(weight[:, None]).sum(axis=0).A)
        cand_matrix = matrix[[row_of[p] for p in candidates]]
        scores = np.asarray(cand_matrix @ profile.T).ravel()
        return scores, NearestPaperReasons(self.store, user_ids, user_matrix, cand_matrix,
                                           weights, MIN_SIMILARITY, topical=scores)
