"""The versioned HTTP API (v1) and health endpoints, one blueprint per resource."""

from __future__ import annotations

from flask_smorest import Api

from backend.api import events, health, lists, me, papers, subscription, users

BLUEPRINTS = (users.blp, events.blp, lists.blp, papers.blp, me.blp, subscription.blp,
              health.blp)


def register(api: Api) -> None:
    """Register every blueprint on the flask-smorest ``Api``."""
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer",
                       "description": "The token returned by POST /v1/users."})
    for blueprint in BLUEPRINTS:
        api.register_blueprint(blueprint)
