"""POST /v1/users: anonymous registration of an extension install."""

from __future__ import annotations

from flask_smorest import Blueprint

from backend.api.common import utcnow
from backend.extensions import get_store
from backend.limits import client_ip, limited
from backend.schemas import NewUserSchema

blp = Blueprint("users", __name__, url_prefix="/v1", description="Registration")


@blp.route("/users", methods=["POST"])
@limited(("register", "RATELIMIT_REGISTER", client_ip))
@blp.response(201, NewUserSchema)
@blp.alt_response(429, description="Too many registrations from this address; see Retry-After")
def register_user():
    """Register an anonymous user; returns its id and bearer token (shown only once)."""
    user_id, token = get_store().create_user(utcnow())
    return {"user_id": user_id, "token": token}
