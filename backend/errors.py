"""One error shape for everything: RFC 9457 ``application/problem+json``."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis
from flask import Flask, Response
from limits.errors import StorageError
from werkzeug.exceptions import HTTPException

from backend.store import RateLimited

PROBLEM_MIME = "application/problem+json"
RETRY_AFTER_SECONDS = "5"  # what a 503 (data store unreachable or stalled) asks clients to wait
log = logging.getLogger(__name__)


def problem(status: int, title: str, detail: str | None = None,
            errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    """Build a problem+json response."""
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MIME)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def flatten_messages(messages: Any, location: str | None = None) -> list[dict[str, Any]]:
    """Turn webargs/marshmallow nested error messages into a flat list of field errors.

    ``{"json": {"events": {"0": {"ts": ["Older than 30 days."]}}}}`` becomes
    ``[{"field": "events[0].ts", "pointer": "/events/0/ts", "index": 0, ...}]``.
    """
    out: list[dict[str, Any]] = []

    def walk(node: Any, path: list[str]) -> None:
        if isinstance(node, dict):
            for name, child in node.items():
                walk(child, [*path, str(name)])
        elif isinstance(node, list) and node and all(isinstance(m, str) for m in node):
            for message in node:
                out.append(_field_error(path, message, location))
        elif isinstance(node, list):
            for child in node:
                walk(child, path)
        else:
            out.append(_field_error(path, str(node), location))

    if isinstance(messages, dict) and location is None:
        for loc, child in messages.items():
            out.extend(flatten_messages(child, loc))
        return out
    walk(messages, [])
    return out


def _field_error(path: list[str], message: str, location: str | None) -> dict[str, Any]:
    parts = [p for p in path if p != "_schema"]
    dotted = ""
    for part in parts:
        dotted += f"[{part}]" if part.isdigit() else (f".{part}" if dotted else part)
    error: dict[str, Any] = {
        "field": dotted or "(body)",
        "pointer": "/" + "/".join(parts) if location == "json" else None,
        "location": {"json": "body", "querystring": "query"}.get(location or "", location),
        "message": message,
    }
    if len(parts) >= 2 and parts[0] == "events" and parts[1].isdigit():
        error["index"] = int(parts[1])
    return {k: v for k, v in error.items() if v is not None}


def handle_http_exception(error: HTTPException) -> Response:
    """Every HTTP error, including webargs validation errors, as problem+json."""
    data = getattr(error, "data", None) or {}
    status = error.code or 500
    errors = None
    detail = error.description
    if "messages" in data:
        errors = flatten_messages(data["messages"])
        if status == 422:
            detail = "The request has invalid fields; see errors."
        elif status == 400:
            detail = "The request body is not valid JSON."
    if "message" in data:
        detail = data["message"]
    headers = dict(data.get("headers") or {})
    if status == 503:
        headers.setdefault("Retry-After", RETRY_AFTER_SECONDS)
    if status == 405 and error.get_response().headers.get("Allow"):
        headers["Allow"] = error.get_response().headers["Allow"]
    return problem(status, error.name, detail, errors, headers)


def register_error_handlers(app: Flask) -> None:
    """Install the problem+json handlers (after flask-smorest's, replacing them)."""
    app.register_error_handler(HTTPException, handle_http_exception)

    @app.errorhandler(redis.ConnectionError)
    @app.errorhandler(redis.TimeoutError)
    @app.errorhandler(redis.exceptions.RedisClusterException)  # no cluster node answers
    @app.errorhandler(redis.exceptions.ClusterDownError)
    @app.errorhandler(StorageError)  # the rate limits' storage, when its errors are not swallowed
    def _redis_down(error: Exception) -> Response:
        log.warning("Redis unavailable: %s", error)
        return problem(503, "Service Unavailable",
                       "The data store is unreachable; retry later.",
                       headers={"Retry-After": RETRY_AFTER_SECONDS})

    @app.errorhandler(RateLimited)
    def _rate_limited(error: RateLimited) -> Response:
        from backend.limits import rate_limited_response

        return rate_limited_response(error)

    @app.errorhandler(RecursionError)
    def _too_deep(_: Exception) -> Response:
        return problem(400, "Bad Request", "The JSON body is nested too deeply.")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        if isinstance(error, HTTPException):
            return handle_http_exception(error)
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "An unexpected error occurred.")
