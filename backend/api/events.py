"""POST /v1/events: what the user did on huggingface.co/papers."""

from __future__ import annotations

from flask_smorest import Blueprint, abort

from backend.api.common import AUTH_RESPONSES, BEARER, json_body, utcnow
from backend.auth import auth_required
from backend.extensions import get_store
from backend.schemas import EventBatchResultSchema, EventBatchSchema
from backend.store import Event, UserGone

blp = Blueprint("events", __name__, url_prefix="/v1", description="Events")


@blp.route("/events", methods=["POST"])
@auth_required
@json_body
@blp.arguments(EventBatchSchema())
@blp.response(202, EventBatchResultSchema)
@blp.alt_response(401, description=AUTH_RESPONSES[401])
@blp.doc(security=BEARER)
def post_events(user_id: str, batch: dict):
    """Record 1 to 100 events, all or nothing; an event id already applied is a duplicate."""
    events = [
        Event(id=str(e["id"]), type=e["type"], paper_id=e["paper_id"], ts=e["ts"],
              source=e.get("source", ""), title=(e.get("paper") or {}).get("title"))
        for e in batch["events"]
    ]
    try:
        result = get_store().apply_events(user_id, events, utcnow())
    except UserGone:
        abort(401, message="Unknown or revoked token.")
    return {"accepted": result.accepted, "duplicates": result.duplicates}
