"""The short reason shown with each recommended paper.

"Because you saved “X”" when one of the user's papers is close in content (cosine of
L2-normalised TF-IDF rows); "Readers like you saved it" when the collaborative signal stands
out; otherwise "Trending in your topics" (or plain "Trending on Daily Papers" when the paper
has nothing in common with the user's topics).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

TRENDING = {"kind": "trending", "text": "Trending on Daily Papers"}
TOPIC = {"kind": "topic", "text": "Trending in your topics"}
SIMILAR_READERS = {"kind": "similar_readers", "text": "Readers like you saved it"}
COLLABORATIVE_Z = 1.0
TITLE_LENGTH = 80


def short_title(title: str, limit: int = TITLE_LENGTH) -> str:
    """``title`` cut to ``limit`` characters with an ellipsis."""
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


class NearestPaperReasons:
    """Reasons for candidates, computed for the chosen ones together (one product) by
    :meth:`prepare`; the titles they quote are fetched with the list's own titles
    (:meth:`title_ids`, :meth:`use_titles`) or, failing that, on first use.

    Parameters
    ----------
    store:
        The store, for the titles of the user's papers.
    user_papers:
        The user's paper ids, one per row of ``user_vectors``.
    user_vectors, candidate_vectors:
        L2-normalised content rows of the user's papers and of the candidates (None: the
        model has no content).
    weights:
        The user's interaction weights (a weight of 2 or more includes a save).
    min_similarity:
        Cosine from which a paper of the user explains a candidate.
    collaborative:
        Per candidate, the z-scored collaborative score, or None.
    topical:
        Per candidate, the content score; where it is not positive the reason is plain
        trending. None: always "Trending in your topics" as the last resort.
    candidate_rows:
        Row of ``candidate_vectors`` of each candidate position (default: the position), so
        a caller can pass a larger matrix without slicing it for every list.
    """

    def __init__(self, store, user_papers: Sequence[str], user_vectors: sp.csr_matrix | None,
                 candidate_vectors: sp.csr_matrix | None, weights: dict[str, float],
                 min_similarity: float, collaborative: np.ndarray | None = None,
                 topical: np.ndarray | None = None, candidate_rows: np.ndarray | None = None):
        self.store = store
        self.user_papers = list(user_papers)
        self.user_vectors = user_vectors
        self.candidate_vectors = candidate_vectors
        self.candidate_rows = candidate_rows
        self.weights = weights
        self.min_similarity = min_similarity
        self.collaborative = collaborative
        self.topical = topical
        self._nearest: dict[int, tuple[str, float]] = {}
        self._titles: dict[str, str | None] = {}

    def prepare(self, positions: Sequence[int]) -> None:
        """Find the user's nearest paper for each of these candidates."""
        positions = [int(p) for p in positions if int(p) not in self._nearest]
        if (self.user_vectors is None or self.candidate_vectors is None
                or not self.user_papers or not positions):
            return
        rows = positions if self.candidate_rows is None else self.candidate_rows[positions]
        sims = (self.candidate_vectors[rows] @ self.user_vectors.T).toarray()
        best = np.argmax(sims, axis=1)
        for row, position in enumerate(positions):
            self._nearest[position] = (self.user_papers[best[row]], float(sims[row, best[row]]))

    def title_ids(self) -> list[str]:
        """Papers of the user whose titles the prepared reasons quote (not yet known)."""
        return sorted({paper for paper, sim in self._nearest.values()
                       if sim >= self.min_similarity and paper not in self._titles})

    def use_titles(self, titles: dict[str, str | None]) -> None:
        """Titles fetched by the caller (a superset of :meth:`title_ids` is fine)."""
        self._titles.update(titles)

    def __call__(self, position: int) -> dict[str, str]:
        """The reason for the candidate at ``position``."""
        self.prepare([position])
        paper, similarity = self._nearest.get(position, (None, 0.0))
        if paper is not None and similarity >= self.min_similarity:
            if paper not in self._titles:
                self._titles.update(self.store.titles(self.title_ids()))
            title = self._titles.get(paper)
            if title:
                verb = "saved" if self.weights.get(paper, 0) >= 2 else "read"
                return {"kind": "because_you_saved",
                        "text": f"Because you {verb} “{short_title(title)}”"}
        if self.collaborative is not None and self.collaborative[position] >= COLLABORATIVE_Z:
            return dict(SIMILAR_READERS)
        if self.topical is not None and not self.topical[position] > 0:
            return dict(TRENDING)
        return dict(TOPIC)
