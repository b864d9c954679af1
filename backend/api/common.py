"""Small helpers shared by the API views."""

from __future__ import annotations

from datetime import UTC, datetime

BEARER = [{"bearerAuth": []}]
AUTH_RESPONSES = {401: "Missing, unknown or revoked token"}


def utcnow() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)
