"""POST /v1/events: what the user did on huggingface.co/papers."""

from __future__ import annotations

from flask_smorest import Blueprint

from backend.api.common import (
    AUTH_RESPONSES,
    BEARER,
    json_arguments,
    json_body,
    small_json_response,
    utcnow,
)
from backend.auth import token_checked_on_failure, unknown_token
from backend.extensions import get_store
from backend.limits import client_ip, count_batch_events, event_windows, limited, token_key
from backend.schemas import EventBatchResultSchema, EventBatchSchema
from backend.store import Event, RateWindow

blp = Blueprint("events", __name__, url_prefix="/v1", description="Events")


@blp.route("/events", methods=["POST"])
# Counted here (one per request, the rest of a batch's events below) only where the event
# script cannot count them (see backend/limits.py).
@limited(("events-token", "RATELIMIT_EVENTS", token_key),
         ("events-ip", "RATELIMIT_EVENTS_PER_IP", client_ip), unless_events_in_store=True)
@token_checked_on_failure(rate_windows=event_windows)
@json_body
# responses documented by hand: the view returns its finished response, and the wrappers of
# blp.response and blp.alt_response around every call would cost more than the rest of it
@json_arguments(blp, EventBatchSchema(), security=BEARER, responses={
    "202": {"description": "Accepted",
            "content": {"application/json": {"schema": EventBatchResultSchema}}},
    "400": {"description": "The body is not JSON (or not UTF-8)"},
    "401": {"description": AUTH_RESPONSES[401]},
    "413": {"description": "The body is larger than 256 KiB"},
    "415": {"description": "The body is not application/json"},
    "422": "UNPROCESSABLE_ENTITY",
    "429": {"description": "Too many events; see Retry-After"}})
def post_events(token: str, windows: list[RateWindow], batch: dict):
    """Record 1 to 100 events, all or nothing; an event id already applied is a duplicate."""
    events = [
        Event(id=str(e["id"]), type=e["type"], paper_id=e["paper_id"], ts=e["ts"],
              source=e.get("source", ""), title=(e.get("paper") or {}).get("title"))
        for e in batch["events"]
    ]
    count_batch_events(token, len(events))  # where the store does not count them
    # Rate limits, authentication and the batch share one round trip (see
    # token_checked_on_failure and backend/limits.py).
    result = get_store().apply_events_of_token(token, events, utcnow(), windows)
    if result is None:
        unknown_token()
    return small_json_response({"accepted": result.accepted, "duplicates": result.duplicates},
                               202)
