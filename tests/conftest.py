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
