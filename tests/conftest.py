"""Shared fixtures: a real Redis server, a clean database per test, the Flask app."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from tests.redis_server import (
    cluster_requested,
    configured_url,
    redis_cli_binary,
    running_redis,
    running_redis_cluster,
)

# The tests' own Redis servers persist nothing (they are thrown away): let every
# `paperfeed serve` the tests start use them (tests of the refusal unset this).
os.environ.setdefault("PAPERFEED_ALLOW_VOLATILE_REDIS", "1")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a real Redis server for this test session.

    With ``PAPERFEED_TEST_REDIS_CLUSTER=1`` it is a local 3-master Redis Cluster
    (``redis+cluster://``), so every API test runs on a cluster.
    """
    url = configured_url()
    if url:
        yield url
        return
    if cluster_requested():
        with running_redis_cluster() as started:
            yield started
        return
    with running_redis() as started:
        yield started


@pytest.fixture(scope="session")
def redis_cluster_url(redis_url: str) -> Iterator[str]:
    """URL of a local 3-master Redis Cluster (the session's, or one started here)."""
    if redis_url.startswith("redis+cluster://"):
        yield redis_url
        return
    if redis_cli_binary() is None:
        pytest.skip("redis-cli is not installed: cannot create a Redis Cluster")
    with running_redis_cluster() as started:
        yield started


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A client on a freshly flushed database."""
    from backend.store import connect

    client = connect(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.fixture
def app(redis_url: str, redis_client: redis.Redis, tmp_path):
    """The Flask app on the clean test database."""
    from backend import create_app

    # Rate limits are off here (tests register many users); tests/reliability turns them on.
    return create_app({"TESTING": True, "REDIS_URL": redis_url, "DATA_DIR": str(tmp_path),
                       "RATELIMIT_ENABLED": False})


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
