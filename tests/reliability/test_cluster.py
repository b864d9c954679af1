"""Promise 6: paperfeed runs on Redis Cluster (three local masters, started by the fixtures).

Run the whole suite on a cluster with ``PAPERFEED_TEST_REDIS_CLUSTER=1 python -m pytest``;
this module always runs the representative flows on one.
"""

from __future__ import annotations

import pytest
import redis

from backend import keys
from backend.store import connect
from tests.reliability.conftest import assert_problem
from tests.reliability.helpers import dump_everything, event, occurrences


@pytest.fixture
def cluster(redis_cluster_url):
    client = connect(redis_cluster_url)
    client.flushdb(target_nodes=redis.RedisCluster.PRIMARIES)
    yield client
    client.flushdb(target_nodes=redis.RedisCluster.PRIMARIES)
    client.close()


@pytest.fixture
def cluster_client(redis_cluster_url, cluster, tmp_path):
    from backend import create_app

    app = create_app({"TESTING": True, "REDIS_URL": redis_cluster_url,
                      "DATA_DIR": str(tmp_path), "RATELIMIT_REGISTER": "50/hour",
                      "RATELIMIT_EVENTS": "6/minute"})
    return app.test_client()


def test_connect_returns_a_cluster_client(cluster):
    assert isinstance(cluster, redis.RedisCluster)
    assert len(cluster.get_primaries()) == 3


def test_a_users_keys_share_one_hash_slot(cluster):
    slots = {cluster.keyslot(key) for key in keys.user_keys("0123456789abcdef")}
    assert len(slots) == 1


def test_api_flows_on_a_cluster(cluster_client, cluster):
    client = cluster_client
    users = []
    for _ in range(6):  # users spread over the three masters
        body = client.post("/v1/users").get_json()
        users.append((body["user_id"], {"Authorization": f"Bearer {body['token']}"}))
    nodes = {cluster.get_node_from_key(keys.user(uid, "meta")).name for uid, _ in users}
    assert len(nodes) >= 2

    for i, (_, headers) in enumerate(users):
        batch = [event("open", "2412.00001", title="Shared"), event("save", f"2412.1000{i}"),
                 event("dismiss", "2412.00002")]
        response = client.post("/v1/events", headers=headers, json={"events": batch})
        assert response.status_code == 202, response.get_data()
        assert response.get_json() == {"accepted": 3, "duplicates": 0}
        again = client.post("/v1/events", headers=headers, json={"events": batch})
        assert again.get_json() == {"accepted": 0, "duplicates": 3}

    # events never add papers to the catalogue; an import does
    assert client.get("/v1/papers/2412.00001").status_code == 404
    assert client.get("/v1/trending?days=30").get_json()["items"] == []
    with client.application.app_context():
        from backend.extensions import get_ranker, get_store

        get_store().upsert_papers([{"paper_id": "2412.00001", "title": "Imported",
                                    "daily_date": "2024-12-02", "upvotes": 1}])
        get_ranker().invalidate()

    uid, headers = users[0]
    assert [s["paper_id"] for s in client.get("/v1/saved", headers=headers).get_json()["items"]] \
        == ["2412.10000"]
    trending = client.get("/v1/trending?days=30").get_json()["items"]
    assert [(item["paper_id"], item["score"]) for item in trending] == [
        ("2412.00001", 1 + 6 * 0.25)]  # the upvote, and each user's open once
    recs = client.get("/v1/recommendations?days=30", headers=headers)
    assert recs.status_code == 200
    rec_ids = {item["paper_id"] for item in recs.get_json()["items"]}
    assert "2412.10000" not in rec_ids and "2412.00002" not in rec_ids
    export = client.get("/v1/me/export", headers=headers).get_json()
    assert export["user_id"] == uid and len(export["events"]) == 3
    assert client.get("/readyz").status_code == 200

    assert client.delete("/v1/me", headers=headers).status_code == 204
    assert_problem(client.get("/v1/saved", headers=headers), 401)
    assert occurrences(dump_everything(cluster), uid) == []


def test_lua_script_survives_a_script_flush_on_the_cluster(cluster_client, cluster):
    body = cluster_client.post("/v1/users").get_json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    for node in cluster.get_primaries():
        cluster.get_redis_connection(node).script_flush()
    response = cluster_client.post("/v1/events", headers=headers, json={"events": [event()]})
    assert response.status_code == 202


def test_rate_limits_work_on_a_cluster(cluster_client):
    body = cluster_client.post("/v1/users").get_json()
    headers = {"Authorization": f"Bearer {body['token']}"}
    statuses = [cluster_client.post("/v1/events", headers=headers,
                                    json={"events": [event()]}).status_code for _ in range(7)]
    assert statuses == [202] * 6 + [429]
