"""Wiring of long-lived per-process objects (store, trending ranker) into the app."""

from __future__ import annotations

from flask import Flask, current_app

from backend.feeds import TrendingRanker
from backend.store import Store, connect

STORE = "paperfeed.store"
RANKER = "paperfeed.ranker"
RECOMMENDER = "paperfeed.recommender"


def init_app(app: Flask) -> None:
    """Connect to Redis (lazily: nothing is sent until a request needs it)."""
    url = app.config.get("REDIS_URL")
    if not url:
        raise RuntimeError(
            "PAPERFEED_REDIS_URL is not set; `paperfeed serve` sets it after starting "
            "the embedded Redis.")
    store = Store(connect(url, timeout=float(app.config["REDIS_TIMEOUT_SECONDS"])), app.config)
    app.extensions[STORE] = store
    ranker = TrendingRanker(store, app.config)
    app.extensions[RANKER] = ranker
    # Imported here: backend.recommendations.serving builds on backend's store and feeds.
    from backend.recommendations.serving import PersonalRecommender

    app.extensions[RECOMMENDER] = PersonalRecommender(store, ranker, app.config)


def get_store() -> Store:
    """The current app's store."""
    return _extensions()[STORE]


def get_ranker() -> TrendingRanker:
    """The current app's trending ranker."""
    return _extensions()[RANKER]


def get_recommender():
    """The current app's recommendations service."""
    return _extensions()[RECOMMENDER]


def _extensions() -> dict:
    # not current_app.extensions: see backend.limits.client_ip
    return current_app._get_current_object().extensions
