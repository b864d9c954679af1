"""Fixtures of the reliability suite (see docs/reliability.md)."""

from __future__ import annotations

from typing import Any

import pytest


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """Assert ``response`` is an RFC 9457 problem with ``status``; return its body."""
    assert response.status_code == status, (response.status_code, response.get_data()[:300])
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    return body


@pytest.fixture
def limited_app(redis_url, redis_client, tmp_path):
    """The app with rate limits on, at small limits so tests can reach them."""
    from backend import create_app

    return create_app({"TESTING": True, "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path),
                       "RATELIMIT_ENABLED": True, "RATELIMIT_REGISTER": "3/hour",
                       "RATELIMIT_EVENTS": "5/minute", "RATELIMIT_EVENTS_PER_IP": "8/minute"})
