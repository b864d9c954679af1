"""Shared fixtures: a real Redis server, a clean database per test, the Flask app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.redis_server import configured_url, running_redis


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a real Redis server for this test session."""
    url = configured_url()
    if url:
        yield url
        return
    with running_redis() as started:
        yield started


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on a freshly flushed database."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def app(redis_url: str, redis_client: redis.Redis, tmp_path):
    """The Flask app on the clean test database."""
    from backend import create_app

    return create_app({"TESTING": True, "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path)})


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def make_user(client):
    """Register a user; returns ``(user_id, headers)`` for authenticated calls."""

    def make() -> tuple[str, dict[str, str]]:
        response = client.post("/v1/users")
        assert response.status_code == 201
        body = response.get_json()
        return body["user_id"], {"Authorization": f"Bearer {body['token']}"}

    return make
