"""Lists of papers: global trending, a user's recommendations and saved papers."""

from __future__ import annotations

from datetime import date

from flask import g
from flask_smorest import Blueprint

from backend.api.common import AUTH_RESPONSES, BEARER, BodyCache, utcnow
from backend.auth import auth_required
from backend.extensions import get_ranker, get_recommender, get_store
from backend.schemas import (
    ListQuerySchema,
    RecommendationsQuerySchema,
    RecommendationsSchema,
    SavedSchema,
    TrendingSchema,
)

blp = Blueprint("lists", __name__, url_prefix="/v1", description="Paper lists")
TRENDING_SCHEMA = TrendingSchema()
RECOMMENDATIONS_SCHEMA = RecommendationsSchema()
# Per process, like the caches they mirror; an entry is only used for the very list object it
# was made from, so apps sharing the process (tests) cannot see each other's bodies.
_trending_bodies = BodyCache(max_entries=1_000)
_recommendation_bodies = BodyCache()


@blp.route("/trending", methods=["GET"])
@blp.arguments(ListQuerySchema(), location="query")
@blp.response(200, TrendingSchema)
def trending(query: dict):
    """Papers of the window's Daily Papers days, ranked by time-decayed activity."""
    ranker, now = get_ranker(), utcnow()
    days, until = query["days"], query["until"]
    items = ranker.top_items(days, query["limit"], now, until)
    window = _window(*ranker.window(days, now, until))
    return _trending_bodies.response((days, query["limit"], until), items,
                                     lambda: {"window": window, "items": items}, TRENDING_SCHEMA)


@blp.route("/recommendations", methods=["GET"])
@auth_required(with_stamp=True)
@blp.arguments(RecommendationsQuerySchema(), location="query")
@blp.response(200, RecommendationsSchema)
@blp.alt_response(401, description=AUTH_RESPONSES[401])
@blp.doc(security=BEARER)
def recommendations(user_id: str, query: dict):
    """Papers of the window this user is most likely to save, each with a reason.

    Papers the user saved, dismissed or (unless `include_opened`) opened, and the papers in
    `exclude`, are left out."""
    recommender, now = get_recommender(), utcnow()
    days, until = query["days"], query["until"]
    version, items = recommender.recommend(
        user_id, days=days, limit=query["limit"], now=now, stamp=g.user_stamp, until=until,
        exclude=query["exclude"], include_opened=query["include_opened"])
    window = _window(*get_ranker().window(days, now, until))
    key = (user_id, days, query["limit"], until, query["exclude"], query["include_opened"])
    return _recommendation_bodies.response(
        key, items, lambda: {"model_version": version, "window": window, "items": items},
        RECOMMENDATIONS_SCHEMA)


def _window(first: date, last: date) -> dict[str, str]:
    return {"start": first.isoformat(), "until": last.isoformat()}


@blp.route("/saved", methods=["GET"])
@auth_required
@blp.response(200, SavedSchema)
@blp.alt_response(401, description=AUTH_RESPONSES[401])
@blp.doc(security=BEARER)
def saved(user_id: str):
    """The user's saved papers, newest first."""
    return {"items": get_store().saved(user_id)}
