"""Small helpers shared by the API views."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import request

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
        has_body = (request.content_length or 0) > 0 or "Transfer-Encoding" in request.headers
        if has_body and not request.is_json:
            return problem(415, "Unsupported Media Type", "Send the body as application/json.")
        return view(*args, **kwargs)

    return wrapper
