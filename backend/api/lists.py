"""Lists of papers: global trending, a user's recommendations and saved papers."""

from __future__ import annotations

from flask import g
from flask_smorest import Blueprint

from backend.api.common import AUTH_RESPONSES, BEARER, BodyCache, utcnow
from backend.auth import auth_required
from backend.extensions import get_ranker, get_recommender, get_store
from backend.schemas import ListQuerySchema, RecommendationsSchema, SavedSchema, TrendingSchema

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
    """Papers of the last `days` Daily Papers days, ranked by time-decayed activity."""
    items = get_ranker().top_items(query["days"], query["limit"], utcnow())
    return _trending_bodies.response((query["days"], query["limit"]), items,
                                     lambda: {"items": items}, TRENDING_SCHEMA)


@blp.route("/recommendations", methods=["GET"])
@auth_required(with_stamp=True)
@blp.arguments(ListQuerySchema(), location="query")
@blp.response(200, RecommendationsSchema)
@blp.alt_response(401, description=AUTH_RESPONSES[401])
@blp.doc(security=BEARER)
def recommendations(user_id: str, query: dict):
    """Papers of the window this user is most likely to save, each with a reason."""
    version, items = get_recommender().recommend(
        user_id, days=query["days"], limit=query["limit"], now=utcnow(), stamp=g.user_stamp)
    return _recommendation_bodies.response(
        (user_id, query["days"], query["limit"]), items,
        lambda: {"model_version": version, "items": items}, RECOMMENDATIONS_SCHEMA)


@blp.route("/saved", methods=["GET"])
@auth_required
@blp.response(200, SavedSchema)
@blp.alt_response(401, description=AUTH_RESPONSES[401])
@blp.doc(security=BEARER)
def saved(user_id: str):
    """The user's saved papers, newest first."""
    return {"items": get_store().saved(user_id)}
