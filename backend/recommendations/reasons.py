"""Why a paper is recommended: the strongest contribution to its score that is true.

Each component's contribution to a candidate is its blend weight times its z-score over the
candidates (what :func:`recommender.served.served_scores` sums). Going from the strongest
contribution down, the first one whose claim holds names the reason:

- ``content`` / ``nearest``: the user's paper closest in content, if close enough, is named
  (``because_you_saved`` or ``because_you_opened``); a paper among the window's closest to the
  user's papers as a whole is ``topic``;
- ``als``: ``similar_readers`` only when at least two other readers who resemble the user
  read the paper (checked by a :class:`SimilarReaders`, from the model's training data);
- otherwise ``trending``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from backend.feeds import TRENDING
from recommender.model import zscore

TOPIC = {"kind": "topic", "text": "Close to papers you read"}
SIMILAR_READERS = {"kind": "similar_readers", "text": "Read by readers like you"}
TITLE_LENGTH = 80
# At least this many other resembling readers must have read a paper to say so.
MIN_SIMILAR_READERS = 2
PAPER_COMPONENTS = ("content", "nearest")
# A candidate is in the user's topics when its content (or nearest-paper) score is this many
# standard deviations above the window's mean: the closest sixth or so of the window.
TOPIC_Z = 1.0
READER_COMPONENTS = ("als", "readers")


def short_title(title: str, limit: int = TITLE_LENGTH) -> str:
    """``title`` cut to ``limit`` characters with an ellipsis."""
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def nearest_similarity(candidates: sp.csr_matrix, papers: sp.csr_matrix) -> np.ndarray:
    """Per candidate row, the highest cosine with any row of ``papers`` (L2-normalised
    rows); zeros when ``papers`` is empty."""
    if papers.shape[0] == 0 or candidates.shape[0] == 0:
        return np.zeros(candidates.shape[0])
    return np.asarray((candidates @ papers.T).max(axis=1).todense()).ravel()


class SimilarReaders(Protocol):
    """Counts, per candidate paper, the other readers resembling a user who read it
    (:class:`recommender.readers.CoReaders`)."""

    def counts(self, user_id: str, papers: Sequence[str], paper_ids: Sequence[str]
               ) -> list[int]:
        ...


@dataclass
class Evidence:
    """What reasons are checked against.

    ``user_papers`` are the user's papers, one per row of ``user_vectors``; candidate ``i``'s
    content row is ``vectors[candidate_rows[i]]`` (both L2-normalised TF-IDF, None without
    content). A user's paper at cosine ``similar`` or more is named.
    """

    user_papers: list[str]
    user_vectors: sp.csr_matrix | None
    vectors: sp.csr_matrix | None
    candidate_rows: np.ndarray | None
    readers: SimilarReaders | None
    similar: float


class Reasons:
    """Reasons for the candidates of one list.

    :meth:`prepare` works out the chosen candidates' evidence together (one product, one
    readers query); the titles the reasons quote are fetched with the list's own titles
    (:meth:`title_ids`, :meth:`use_titles`) or, failing that, on first use.
    """

    def __init__(self, store, components: dict[str, np.ndarray], blend: dict[str, float],
                 evidence: Evidence, user_id: str, state, candidate_ids: Sequence[str]):
        self.store = store
        self.user_id = user_id
        self.evidence = evidence
        self.state = state
        self.candidate_ids = candidate_ids
        self.contributions = {name: float(weight) * zscore(components[name])[0]
                              for name, weight in blend.items()
                              if weight > 0 and name in components}
        # how close each candidate is to the user's papers, relative to the other candidates
        closeness = [zscore(components[name])[0] for name in PAPER_COMPONENTS
                     if name in components]
        self._closeness = (np.max(closeness, axis=0) if closeness
                           else np.zeros(len(candidate_ids)))
        # the papers a reason may name: the user's saved or opened ones
        self._nameable = np.array([p in state.saved or p in state.opened
                                   for p in evidence.user_papers], dtype=bool)
        self._nearest: dict[int, tuple[str | None, float]] = {}
        self._readers: dict[int, int] = {}
        self._titles: dict[str, str | None] = {}

    def prepare(self, positions: Sequence[int]) -> None:
        """Find the user's closest paper, and the resembling readers, of these candidates."""
        positions = [int(p) for p in positions if int(p) not in self._nearest]
        if not positions:
            return
        ev = self.evidence
        if ev.user_vectors is not None and ev.vectors is not None and self._nameable.any():
            rows = ev.candidate_rows[positions]
            sims = (ev.vectors[rows] @ ev.user_vectors.T).toarray()
            sims[:, ~self._nameable] = -1.0
            best = np.argmax(sims, axis=1)
            for row, position in enumerate(positions):
                self._nearest[position] = (ev.user_papers[best[row]], float(sims[row, best[row]]))
        else:
            self._nearest.update((position, (None, 0.0)) for position in positions)
        if ev.readers is not None and any(c in self.contributions for c in READER_COMPONENTS):
            counts = ev.readers.counts(self.user_id, sorted(self.state.saved | self.state.opened),
                                       [self.candidate_ids[p] for p in positions])
            self._readers.update(zip(positions, counts, strict=True))

    def in_topics(self, position: int) -> bool:
        """Whether the candidate is among the papers closest to the user's (a ``topic``
        reason would be true)."""
        return bool(self._closeness[position] >= TOPIC_Z)

    def in_topics_mask(self) -> np.ndarray:
        """:meth:`in_topics` of every candidate."""
        return self._closeness >= TOPIC_Z

    def title_ids(self) -> list[str]:
        """Papers of the user whose titles the prepared reasons may quote (not yet known)."""
        return sorted({paper for paper, sim in self._nearest.values()
                       if paper is not None and sim >= self.evidence.similar
                       and paper not in self._titles})

    def use_titles(self, titles: dict[str, str | None]) -> None:
        """Titles fetched by the caller (a superset of :meth:`title_ids` is fine)."""
        self._titles.update(titles)

    def __call__(self, position: int) -> dict[str, str]:
        """The reason for the candidate at ``position``."""
        self.prepare([position])
        order = sorted(self.contributions, key=lambda name: -self.contributions[name][position])
        for name in order:
            if name in PAPER_COMPONENTS:
                reason = self._paper_reason(position)
            elif name in READER_COMPONENTS:
                reason = (dict(SIMILAR_READERS)
                          if self._readers.get(position, 0) >= MIN_SIMILAR_READERS else None)
            else:
                reason = dict(TRENDING)
            if reason is not None:
                return reason
        return dict(TRENDING)

    def _paper_reason(self, position: int) -> dict[str, str] | None:
        paper, similarity = self._nearest.get(position, (None, 0.0))
        if paper is not None and similarity >= self.evidence.similar:
            if paper not in self._titles:
                self._titles.update(self.store.titles(self.title_ids()))
            title = self._titles.get(paper)
            if title:
                if paper in self.state.saved:
                    return {"kind": "because_you_saved",
                            "text": f"Because you saved “{short_title(title)}”"}
                return {"kind": "because_you_opened",
                        "text": f"Because you opened “{short_title(title)}”"}
        if self.in_topics(position):
            return dict(TOPIC)
        return None
