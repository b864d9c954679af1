"""The user's own data: export and deletion."""

from __future__ import annotations

from flask_smorest import Blueprint

from backend.api.common import AUTH_RESPONSES, BEARER
from backend.auth import auth_required
from backend.digest.schemas import ExportWithSubscriptionSchema
from backend.digest.service import get_digest
from backend.extensions import get_store

blp = Blueprint("me", __name__, url_prefix="/v1", description="Your data")


@blp.route("/me/export", methods=["GET"])
@auth_required
@blp.response(200, ExportWithSubscriptionSchema)
@blp.alt_response(401, description=AUTH_RESPONSES[401])
@blp.doc(security=BEARER)
def export(user_id: str):
    """Everything stored about you: events, saved and dismissed papers, weights, and the
    email digest subscription."""
    return {**get_store().export(user_id),
            "subscription": get_digest().subscriptions.public(user_id)}


@blp.route("/me", methods=["DELETE"])
@auth_required
@blp.response(204)
@blp.alt_response(401, description=AUTH_RESPONSES[401])
@blp.doc(security=BEARER)
def delete_me(user_id: str):
    """Delete all your data, the digest subscription included; the token stops working."""
    get_digest().subscriptions.forget_user(user_id)
    get_store().delete_user(user_id)
