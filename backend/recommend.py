"""The recommendations service used by the API.

With no trained model it serves the user's trending list without what they saved or
dismissed; :mod:`recommender.serving` replaces this with the personal ranking.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.feeds import TrendingRanker, fallback_recommendations
from backend.store import Store


class TrendingRecommender:
    """Recommendations = trending minus the user's saved and dismissed papers."""

    def __init__(self, store: Store, ranker: TrendingRanker):
        self.store = store
        self.ranker = ranker

    def model_version(self) -> str | None:
        """No model: always None."""
        return None

    def recommend(self, user_id: str, *, days: int, limit: int, now: datetime
                  ) -> tuple[str | None, list[dict[str, Any]]]:
        """Return ``(model_version, items)``."""
        return None, fallback_recommendations(self.store, self.ranker, user_id,
                                              days=days, limit=limit, now=now)
