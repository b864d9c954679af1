"""Liveness and readiness."""

from __future__ import annotations

import redis
from flask_smorest import Blueprint, abort

from backend.extensions import get_recommender, get_store
from backend.schemas import HealthSchema

blp = Blueprint("health", __name__, description="Health")


@blp.route("/healthz", methods=["GET"])
@blp.response(200, HealthSchema)
def healthz():
    """The process is alive."""
    return {"status": "ok"}


@blp.route("/readyz", methods=["GET"])
@blp.response(200, HealthSchema)
@blp.alt_response(503, description="Redis unreachable")
def readyz():
    """Ready to serve: Redis answers. Reports the model version in use, the catalogue's size
    and its newest Daily Papers day (how fresh the scheduler's imports are), and how Redis
    persists its data (`none`: a Redis restart loses everything). `degraded`: the version
    the model pointer names cannot be served (missing, or its files fail their checksums);
    `model_problem` says why and `model_version` is what is served instead."""
    store = get_store()
    try:
        size, newest = store.catalogue_status()
        persistence = store.persistence()
    except (redis.ConnectionError, redis.TimeoutError) as error:
        abort(503, message=f"Redis is unreachable: {type(error).__name__}.")
    model = get_recommender().model_status()
    return {"status": "degraded" if model.problem else "ready",
            "model_version": model.served, "model_pointer": model.pointer,
            "model_problem": model.problem,
            "catalogue_size": size, "persistence": persistence,
            "newest_daily_date": newest.isoformat() if newest else None}
