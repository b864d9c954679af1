"""Small helpers shared by the API views."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from cachetools import LRUCache
from flask import Response, current_app, request
from flask_smorest import Blueprint, abort

from backend.errors import problem

BEARER = [{"bearerAuth": []}]
AUTH_RESPONSES = {401: "Missing, unknown or revoked token"}


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


def json_body(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer 415 unless the body is JSON (applied after authentication)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # the environ, not request.headers: a missing header raises and catches a KeyError there
        req = request._get_current_object()
        has_body = (req.content_length or 0) > 0 or "HTTP_TRANSFER_ENCODING" in req.environ
        if has_body and not req.is_json:
            return problem(415, "Unsupported Media Type", "Send the body as application/json.")
        return view(*args, **kwargs)

    return wrapper


def small_json_response(payload: dict[str, Any], status: int) -> Response:
    """A compact JSON response of a small payload already in its documented shape (for the
    hottest routes: flask-smorest's schema dump and ``jsonify`` cost more than the rest of
    answering a one-event POST's two counts)."""
    app = current_app._get_current_object()  # see backend.limits.client_ip
    return app.response_class(json.dumps(payload, separators=(",", ":")), status=status,
                              mimetype="application/json")


def json_arguments(blp: Blueprint, schema: ma.Schema,
                   **doc: Any) -> Callable[[Callable], Callable]:
    """A JSON body loaded by ``schema.load`` and documented as ``blp.arguments(schema)``
    documents it, without webargs' per-request layers (which cost more than the rest of a
    one-event POST's validation). Same errors as webargs: 400 for a body that is not JSON,
    422 with the schema's messages under ``json`` (document the 422 on the view). The loaded
    data is passed after the positional arguments. ``doc``: more of the operation's
    documentation, as ``blp.doc`` takes it (one wrapper around the view for both)."""
    document = blp.doc(**doc, requestBody={
        "required": True, "content": {"application/json": {"schema": schema}}})

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return view(*args, _load_json_body(schema), **kwargs)

        return document(wrapper)

    return decorate


def _load_json_body(schema: ma.Schema) -> Any:
    raw = request._get_current_object().get_data(cache=True)
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:  # not JSON, or not UTF-8/16/32
        abort(400, messages={"json": ["Invalid JSON body."]})
    try:
        return schema.load(data)
    except ma.ValidationError as error:
        abort(422, messages={"json": error.messages})


class BodyCache:
    """JSON bodies of lists that a service already caches, reused while the list is the same.

    The trending ranker and the recommendations service hand out the *same* list object
    until it expires or the user's state changes; serialising it through its schema again
    was most of the cost of such a cache hit. An entry is valid only for the list object it
    was made from (compared by identity, and the entry keeps that object alive).
    """

    def __init__(self, max_entries: int = 10_000):
        self._bodies: LRUCache[Any, tuple[object, bytes]] = LRUCache(max_entries)
        self._lock = threading.Lock()

    def response(self, key: Any, source: object, payload: Callable[[], Any],
                 schema: Any) -> Response:
        """A JSON response of ``schema.dump(payload())``, made once per ``source`` object."""
        with self._lock:
            hit = self._bodies.get(key)
        body = hit[1] if hit is not None and hit[0] is source else None
        if body is None:
            # exactly what jsonify would send (compact separators, sorted keys)
            body = current_app.json.response(schema.dump(payload())).get_data()
            with self._lock:
                self._bodies[key] = (source, body)
        return current_app.response_class(body, mimetype="application/json")
