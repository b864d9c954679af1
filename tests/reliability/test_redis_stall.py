"""Promise 3: a stalled Redis (SIGSTOP) is a quick 503 on every route, and the service
recovers by itself when Redis resumes (SIGCONT)."""

from __future__ import annotations

import os
import signal
import time

import pytest
import redis

from tests.redis_server import running_redis
from tests.reliability.conftest import assert_problem
from tests.reliability.helpers import event

pytestmark = pytest.mark.slow

# Every route that reads or writes Redis, with parameters no cache has answered yet.
ROUTES = [
    ("POST", "/v1/events", "events"),
    ("GET", "/v1/recommendations?days=11&limit=7", None),
    ("GET", "/v1/trending?days=13&limit=9", None),
    ("GET", "/v1/saved", None),
    ("GET", "/v1/me/export", None),
    ("GET", "/v1/papers/2412.01824", None),
    ("POST", "/v1/users", None),
    ("GET", "/readyz", None),
]
STALL_ANSWER_SECONDS = 2.0


@pytest.fixture(params=["single", "cluster"])
def stoppable_redis(request):
    """A private single Redis, then a private 3-master Redis Cluster: its URL and the pids
    of its redis-servers; resumed at the end whatever happened."""
    from tests.redis_server import redis_cli_binary, running_redis_cluster

    if request.param == "cluster" and redis_cli_binary() is None:
        pytest.skip("redis-cli is not installed: cannot create a Redis Cluster")
    with running_redis() if request.param == "single" else running_redis_cluster() as url:
        if url.startswith("redis+cluster://"):
            nodes = redis.RedisCluster.from_url("redis://" + url.split("://", 1)[1]).get_nodes()
            addresses = [(node.host, node.port) for node in nodes]
        else:
            addresses = [(None, None)]
        pids = []
        for host, port in addresses:
            client = redis.Redis(host=host, port=port) if host else redis.Redis.from_url(url)
            pids.append(int(client.info("server")["process_id"]))
            client.close()
        try:
            yield url, pids
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)


def test_a_stalled_redis_is_a_quick_503_everywhere_and_the_service_recovers(
        stoppable_redis, tmp_path):
    """Every server of the Redis is stopped during each call (briefly: a cluster's nodes
    must not stay stopped past their cluster-node-timeout, or they would mark each other
    failed)."""
    from backend import create_app

    url, pids = stoppable_redis
    app = create_app({"TESTING": True, "REDIS_URL": url, "DATA_DIR": str(tmp_path),
                      "RATELIMIT_ENABLED": True})
    client = app.test_client()
    with app.app_context():  # an imported paper, so /v1/papers/<id> answers 200 before the stall
        from backend.extensions import get_store

        get_store().upsert_papers([{"paper_id": "2412.01824", "title": "A title",
                                    "daily_date": "2024-12-03"}])
    token = client.post("/v1/users").get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}

    def call(method: str, path: str, body: str | None):
        json_body = {"events": [event("save", "2412.01824", title="A title")]} if body else None
        started = time.monotonic()
        response = client.open(path, method=method, headers=headers, json=json_body)
        return response, time.monotonic() - started

    for method, path, body in ROUTES:  # everything works, and each route has connected
        assert call(method, path, body)[0].status_code < 300, path

    for method, path, body in ROUTES:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            response, elapsed = call(method, path, body)
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        assert_problem(response, 503)
        assert int(response.headers["Retry-After"]) > 0, path
        assert elapsed < STALL_ANSWER_SECONDS, (path, elapsed)

    for method, path, body in ROUTES:  # recovered by itself: no restart, no reconnect call
        response, _ = call(method, path, body)
        assert response.status_code < 300, (path, response.status_code, response.get_data()[:200])


def test_one_stalled_cluster_node_is_a_quick_503_and_the_service_recovers(tmp_path):
    from backend import create_app, keys
    from tests.redis_server import redis_cli_binary, running_redis_cluster

    if redis_cli_binary() is None:
        pytest.skip("redis-cli is not installed: cannot create a Redis Cluster")
    with running_redis_cluster() as url:
        app = create_app({"TESTING": True, "REDIS_URL": url, "DATA_DIR": str(tmp_path),
                          "RATELIMIT_ENABLED": False})
        client = app.test_client()
        user = client.post("/v1/users").get_json()
        headers = {"Authorization": f"Bearer {user['token']}"}
        cluster = redis.RedisCluster.from_url("redis://" + url.split("://", 1)[1])
        node = cluster.get_node_from_key(keys.user(user["user_id"], "saved"))
        direct = redis.Redis(host=node.host, port=node.port)
        pid = int(direct.info("server")["process_id"])
        direct.close()
        assert client.get("/v1/saved", headers=headers).status_code == 200
        os.kill(pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            response = client.get("/v1/saved", headers=headers)
            elapsed = time.monotonic() - started
        finally:
            os.kill(pid, signal.SIGCONT)
        assert_problem(response, 503)
        assert elapsed < STALL_ANSWER_SECONDS / 2, elapsed  # the other nodes answer at once
        assert client.get("/v1/saved", headers=headers).status_code == 200
