"""Helpers and fixtures the API tests of tests/backend share."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import redis

from backend.extensions import get_store


def now() -> datetime:
    return datetime.now(UTC)


def ago(**delta: float) -> str:
    return (now() - timedelta(**delta)).isoformat()


def event(**fields: Any) -> dict[str, Any]:
    """A valid event (an open of 2412.01824 now) with ``fields`` replaced or added."""
    body: dict[str, Any] = {"id": str(uuid.uuid4()), "type": "open", "paper_id": "2412.01824",
                            "ts": now().isoformat()}
    body.update(fields)
    return body


def make_app(redis_url: str, data_dir, **overrides: Any):
    """The app without rate limits and without the per-process trending cache."""
    from backend import create_app

    return create_app({"TESTING": True, "REDIS_URL": redis_url, "DATA_DIR": str(data_dir),
                       "RATELIMIT_ENABLED": False, "TRENDING_CACHE_SECONDS": 0, **overrides})


def paper(paper_id: str, day: date | str, upvotes: int = 0, title: str | None = None):
    """A normalised catalogue record."""
    return {"paper_id": paper_id, "title": title or f"Paper {paper_id}",
            "daily_date": str(day), "upvotes": upvotes, "authors": ["A. Author"]}


def trending(client, query: str = "") -> list[dict[str, Any]]:
    """The items of ``GET /v1/trending<query>`` (asserting a 200)."""
    response = client.get(f"/v1/trending{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["paper_id"] for item in items]


@pytest.fixture
def user(make_user):
    """A registered user: ``(user_id, headers)``."""
    return make_user()


@pytest.fixture
def catalogue(app):
    """Import normalised records into the catalogue (as `paperfeed import` does)."""

    def upsert(*papers: dict[str, Any]):
        with app.app_context():
            return get_store().upsert_papers(papers)

    return upsert


def flush(client: redis.Redis) -> None:
    """Empty a test Redis, single or cluster (every primary)."""
    if isinstance(client, redis.RedisCluster):
        client.flushdb(target_nodes=redis.RedisCluster.PRIMARIES)
    else:
        client.flushdb()
