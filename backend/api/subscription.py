"""The email digest subscription: subscribe, confirm, read, unsubscribe."""

from __future__ import annotations

from flask import Response, request
from flask_smorest import Blueprint

from backend.api.common import AUTH_RESPONSES, BEARER, json_arguments, json_body, utcnow
from backend.auth import auth_required
from backend.digest import mailer
from backend.digest.compose import render_page
from backend.digest.schemas import (
    SubscriptionRequestSchema,
    SubscriptionSchema,
    SubscriptionStatusSchema,
)
from backend.digest.service import get_digest
from backend.digest.tokens import TokenError
from backend.errors import problem
from backend.limits import token_key

blp = Blueprint("subscription", __name__, url_prefix="/v1",
                description="The email digest: your trending papers by email")
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
TOKEN_PARAMETER = {"in": "query", "name": "token", "required": True, "schema": {"type": "string"}}
PAGE_RESPONSES = {"200": {"description": "An HTML page", "content": {"text/html": {}}},
                  "400": {"description": "An HTML page: the link is expired, used or tampered with",
                          "content": {"text/html": {}}}}


@blp.route("/me/subscription", methods=["PUT"])
@auth_required
@json_body
@json_arguments(blp, SubscriptionRequestSchema())
@blp.response(202, SubscriptionStatusSchema)
@blp.alt_response(401, description=AUTH_RESPONSES[401])
@blp.alt_response(422, description="Invalid fields, or the mail server refused the address")
@blp.alt_response(429, description="More than 3 confirmation emails a day for the address or token")
@blp.alt_response(503, description="The confirmation email could not be sent; retry later")
@blp.doc(security=BEARER)
def subscribe(user_id: str, body: dict):
    """Subscribe an address; a new address gets a confirmation email and stays pending."""
    digest = get_digest()
    subscriptions = digest.subscriptions
    if subscriptions.needs_confirmation(user_id, body["email"]):
        subscriptions.count_confirmation(
            subscriptions.confirmation_windows(body["email"], token_key()))
    now = utcnow()
    requested = subscriptions.request(user_id, body["email"], body["frequency"],
                                      body["hour_utc"], body["weekday"], now)
    if requested.nonce:
        try:
            digest.send_confirmation(user_id, body["email"], requested.nonce,
                                     body["frequency"], now)
        except mailer.PermanentFailure:
            return problem(422, "Unprocessable Content", "The mail server refused the address.",
                           errors=[{"field": "email", "pointer": "/email", "location": "body",
                                    "message": "The mail server refused this address."}])
        except mailer.DeliveryFailure:
            return problem(503, "Service Unavailable",
                           "The confirmation email could not be sent; retry later.",
                           headers={"Retry-After": "60"})
    return {"status": requested.status}


@blp.route("/me/subscription", methods=["GET"])
@auth_required
@blp.response(200, SubscriptionSchema)
@blp.alt_response(401, description=AUTH_RESPONSES[401])
@blp.doc(security=BEARER)
def read(user_id: str):
    """Your subscription and its status (none, pending, active or suppressed)."""
    return get_digest().subscriptions.public(user_id)


@blp.route("/me/subscription", methods=["DELETE"])
@auth_required
@blp.response(204)
@blp.alt_response(401, description=AUTH_RESPONSES[401])
@blp.doc(security=BEARER)
def unsubscribe_me(user_id: str):
    """End your subscription."""
    get_digest().subscriptions.cancel(user_id)


@blp.route("/subscription/confirm", methods=["GET"])
@blp.doc(parameters=[TOKEN_PARAMETER], responses=PAGE_RESPONSES)
def confirm():
    """The link of the confirmation email: activates the subscription (single use, 48 h)."""
    digest = get_digest()
    try:
        claims = digest.tokens.check_confirm(request.args.get("token", ""))
    except TokenError as error:
        return _page(400, "Link not valid", f"{error} Subscribe again from the extension's options.")
    subscription = digest.subscriptions.confirm(claims.user_id, claims.value, utcnow())
    if subscription is None:
        return _page(400, "Link already used",
                     "This confirmation link was used already or replaced by a newer one.")
    when = f"{subscription.hour_utc:02d}:00 UTC"
    if subscription.frequency == "weekly":
        when = f"{WEEKDAYS[subscription.weekday]}s at {when}"
    return _page(200, "Subscription confirmed",
                 f"Your {subscription.frequency} digest goes to {subscription.email} ({when}).")


@blp.route("/subscription/unsubscribe", methods=["GET", "POST"])
@blp.doc(parameters=[TOKEN_PARAMETER], responses=PAGE_RESPONSES)
def unsubscribe():
    """The digest's unsubscribe link: GET shows a button, POST (RFC 8058 one-click)
    unsubscribes at once."""
    token = request.args.get("token", "")
    digest = get_digest()
    try:
        claims = digest.tokens.check_unsubscribe(token)
    except TokenError as error:
        return _page(400, "Link not valid", str(error))
    if request.method == "GET":
        return _page(200, "Unsubscribe", "Stop receiving the paperfeed digest at this address?",
                     form_action=request.full_path, button="Unsubscribe")
    digest.subscriptions.cancel(claims.user_id, claims.value)
    return _page(200, "Unsubscribed", "You will not receive the paperfeed digest any more.")


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _page(status: int, title: str, message: str, **form: str) -> Response:
    response = Response(render_page(title, message, **form), status=status,
                        mimetype="text/html")
    response.headers["Content-Security-Policy"] = PAGE_CSP
    return response
